-- Makes df.scheme.<sid>.planned_spend, .planned_output, .spend_fortnight, .spend_to_date, .spend_to_date_<la|icb>,
-- .output_fortnight, .output_to_date for every scheme with a Discharge Fund row in the fund year's plan.
-- Reads int_df_plan (the scheme's DF plan rows) and int_df_ledger (DF postings to those schemes). "In P" figures
-- cover all of P, also the days before 1 April when P straddles the fund year's start (in_period); "to date"
-- figures start on 1 April of the fund year holding the period end (in_ytd).
SELECT 'df.scheme.' || sid(scheme_id) || '.planned_spend' AS figure_id, 'plan' AS role, file_id, file_name, source_row,
       row_key, planned_spend AS contribution
FROM int_df_plan WHERE left_out IS NULL
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.planned_output', 'plan', file_id, file_name, source_row, row_key, planned_output
FROM int_df_plan WHERE left_out IS NULL AND planned_output IS NOT NULL
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_fortnight', 'amount', file_id, file_name, source_row, row_key, amount
FROM int_df_ledger WHERE left_out IS NULL AND in_period
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_to_date', 'amount', file_id, file_name, source_row, row_key, amount
FROM int_df_ledger WHERE left_out IS NULL AND in_ytd
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_to_date_' || df_source, 'amount', file_id, file_name, source_row,
       row_key, amount
FROM int_df_ledger WHERE left_out IS NULL AND in_ytd
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.output_fortnight', 'units', file_id, file_name, source_row, row_key, units
FROM int_df_ledger WHERE left_out IS NULL AND units IS NOT NULL AND in_period
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.output_to_date', 'units', file_id, file_name, source_row, row_key, units
FROM int_df_ledger WHERE left_out IS NULL AND units IS NOT NULL AND in_ytd
