-- The two Yes/No checks, from the totals df_derived made: their lineage is both sides' rows.
SELECT 'df.check.plan_within_income' AS figure_id,
       CASE WHEN figure_id = 'df.income.total' THEN 'income' ELSE 'plan' END AS role, file_id, file_name, source_row, row_key, contribution
FROM contrib WHERE figure_id IN ('df.income.total', 'df.spend.planned')
UNION ALL
SELECT 'df.check.spend_within_income', CASE WHEN figure_id = 'df.income.total' THEN 'income' ELSE 'amount' END,
       file_id, file_name, source_row, row_key, contribution
FROM contrib WHERE figure_id IN ('df.income.total', 'df.spend.to_date')
