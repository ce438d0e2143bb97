-- Balances (income +, expenditure -) and totals over every funding source.
SELECT replace(replace(figure_id, '.income', '.balance'), '.expenditure_ytd', '.balance') AS figure_id, role,
       file_id, file_name, source_row, row_key,
       CASE WHEN figure_id LIKE '%.income' THEN contribution ELSE -contribution END AS contribution
FROM contrib WHERE figure_id LIKE 'q.ie.%'
UNION ALL
SELECT 'q.ie.total.' || split_part(figure_id, '.', 4), role, file_id, file_name, source_row, row_key, contribution
FROM contrib WHERE figure_id LIKE 'q.ie.%'
UNION ALL
SELECT 'q.ie.total.balance', role, file_id, file_name, source_row, row_key,
       CASE WHEN figure_id LIKE '%.income' THEN contribution ELSE -contribution END
FROM contrib WHERE figure_id LIKE 'q.ie.%'
