-- Cross-source: Discharge Fund planned spend against DF income for the fund year (warning; the return reports it).
-- Reads int_df_plan and int_df_income (the run's HWB and fund year).
WITH plan AS (
    SELECT sum(planned_spend) AS planned, min(file_name) AS file_name FROM int_df_plan WHERE left_out IS NULL
), income AS (
    SELECT coalesce(sum(amount), 0) AS income FROM int_df_income WHERE left_out IS NULL
)
SELECT 'warning' AS severity, file_name AS file, NULL::BIGINT AS "row", 'planned_spend' AS "column",
       planned::VARCHAR AS "value", 'cross.df_plan_exceeds_income' AS rule,
       'Discharge Fund planned spend £' || format('{:,.2f}', planned) || ' exceeds DF income £'
       || format('{:,.2f}', income) || ' for ' || $fund_year || ' by £' || format('{:,.2f}', planned - income)
       || '. Correct the plan or record how the gap is funded.' AS message
FROM plan, income WHERE planned > income
