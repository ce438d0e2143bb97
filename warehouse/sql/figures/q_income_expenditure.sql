-- Makes q.ie.<source>.income (plan income for the fund year, int_plan_income) and q.ie.<source>.expenditure_ytd
-- (ledger amount 1 April to the quarter end, int_ledger_ytd) per funding source. Balances and totals are
-- derivations declared in bcf/returns/quarterly.py.
SELECT 'q.ie.' || funding_source || '.income' AS figure_id, 'income' AS role, file_id, file_name, source_row,
       row_key, amount AS contribution
FROM int_plan_income WHERE left_out IS NULL
UNION ALL
SELECT 'q.ie.' || funding_source || '.expenditure_ytd', 'amount', file_id, file_name, source_row, row_key, amount
FROM int_ledger_ytd WHERE left_out IS NULL
