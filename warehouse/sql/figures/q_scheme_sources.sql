-- Makes q.scheme.<sid>.<source>.planned_spend, .planned_output, .actual_spend_ytd, .actual_output_ytd: the
-- per-scheme figures of q_schemes.sql split by funding source, one line per (scheme, funding source) pair as the
-- national template has it. Reads int_plan_schemes (the fund year's plan rows) and int_scheme_ledger (postings 1
-- April to the quarter end, to a scheme of the plan), the rows without a reason left_out.
WITH plan AS (SELECT * FROM int_plan_schemes WHERE left_out IS NULL),
ledger AS (SELECT * FROM int_scheme_ledger WHERE left_out IS NULL)
SELECT 'q.scheme.' || sid(scheme_id) || '.' || funding_source || '.planned_spend' AS figure_id, 'plan' AS role,
       file_id, file_name, source_row, row_key, planned_spend AS contribution FROM plan
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.' || funding_source || '.planned_output', 'plan', file_id, file_name,
       source_row, row_key, planned_output FROM plan WHERE planned_output IS NOT NULL
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.' || funding_source || '.actual_spend_ytd', 'amount', file_id, file_name,
       source_row, row_key, amount FROM ledger
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.' || funding_source || '.actual_output_ytd', 'units', file_id, file_name,
       source_row, row_key, units FROM ledger WHERE units IS NOT NULL
