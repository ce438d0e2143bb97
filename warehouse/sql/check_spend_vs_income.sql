-- Cross-source: ledger spend to date per funding source against that source's income in the plan.
WITH spend AS (
    SELECT funding_source, sum(amount) AS spent, min(file_name) AS file_name FROM cur_spend
    WHERE coalesce(hwb_code, $hwb) = $hwb AND posting_date BETWEEN $fy_start AND $period_end
    GROUP BY funding_source
), income AS (
    SELECT funding_source, sum(amount) AS income FROM cur_plan_income
    WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year GROUP BY funding_source
)
SELECT 'warning' AS severity, s.file_name AS file, NULL::BIGINT AS "row", 'amount' AS "column",
       s.funding_source AS "value", 'cross.spend_exceeds_income' AS rule,
       'Spend to date from ' || s.funding_source || ' is £' || format('{:,.2f}', s.spent) || ', more than its income £'
       || format('{:,.2f}', coalesce(i.income, 0)) || ' in the plan for ' || $fund_year || '.' AS message
FROM spend s LEFT JOIN income i USING (funding_source)
WHERE s.spent > coalesce(i.income, 0)
