-- Cross-source: Discharge Fund planned spend against DF income for the fund year (warning; the return reports it).
WITH plan AS (
    SELECT sum(planned_spend) AS planned, min(file_name) AS file_name FROM cur_plan_schemes
    WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
      AND funding_source IN ('la_discharge', 'icb_discharge')
), income AS (
    SELECT coalesce(sum(amount), 0) AS income FROM cur_plan_income
    WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
      AND funding_source IN ('la_discharge', 'icb_discharge')
)
SELECT 'warning' AS severity, file_name AS file, NULL::BIGINT AS "row", 'planned_spend' AS "column",
       planned::VARCHAR AS "value", 'cross.df_plan_exceeds_income' AS rule,
       'Discharge Fund planned spend £' || format('{:,.2f}', planned) || ' exceeds DF income £'
       || format('{:,.2f}', income) || ' for ' || $fund_year || ' by £' || format('{:,.2f}', planned - income)
       || '. Correct the plan or record how the gap is funded.' AS message
FROM plan, income WHERE planned > income
