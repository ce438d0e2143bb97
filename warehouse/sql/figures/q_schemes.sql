-- Makes q.scheme.<sid>.planned_spend, .planned_output, .actual_spend_ytd, .actual_output_ytd for every scheme of the
-- fund year's plan, all funding sources. Reads int_plan_schemes and int_ledger_ytd (postings 1 April to the
-- quarter end to a scheme of the plan).
WITH ledger AS (SELECT * FROM int_ledger_ytd WHERE scheme_id IN (SELECT scheme_id FROM int_plan_schemes))
SELECT 'q.scheme.' || sid(scheme_id) || '.planned_spend' AS figure_id, 'plan' AS role, file_id, file_name,
       source_row, row_key, planned_spend AS contribution FROM int_plan_schemes
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.planned_output', 'plan', file_id, file_name, source_row, row_key,
       planned_output FROM int_plan_schemes WHERE planned_output IS NOT NULL
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.actual_spend_ytd', 'amount', file_id, file_name, source_row, row_key,
       amount FROM ledger
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.actual_output_ytd', 'units', file_id, file_name, source_row, row_key,
       units FROM ledger WHERE units IS NOT NULL
