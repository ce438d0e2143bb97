-- Cross-source: ledger spend to date per funding source against that source's income in the plan.
-- Reads int_ledger_ytd and int_plan_income (the run's HWB, fund year, 1 April to the period end).
WITH spend AS (
    SELECT funding_source, sum(amount) AS spent, min(file_name) AS file_name FROM int_ledger_ytd WHERE left_out IS NULL
    GROUP BY funding_source
), income AS (
    SELECT funding_source, sum(amount) AS income FROM int_plan_income WHERE left_out IS NULL GROUP BY funding_source
)
SELECT 'warning' AS severity, s.file_name AS file, NULL::BIGINT AS "row", 'amount' AS "column",
       s.funding_source AS "value", 'cross.spend_exceeds_income' AS rule,
       'Spend to date from ' || s.funding_source || ' is £' || format('{:,.2f}', s.spent) || ', more than its income £'
       || format('{:,.2f}', coalesce(i.income, 0)) || ' in the plan for ' || $fund_year || '.' AS message
FROM spend s LEFT JOIN income i USING (funding_source)
WHERE s.spent > coalesce(i.income, 0)
