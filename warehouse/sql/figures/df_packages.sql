-- Makes df.packages.started, .started_from_hospital, .in_use. Reads int_packages: the HWB's episodes in use in P
-- (left_out NULL); of those, started in P, started in P on a hospital referral, and active on any day of P.
SELECT 'df.packages.started' AS figure_id, 'count' AS role, file_id, file_name, source_row, row_key, 1 AS contribution
FROM int_packages WHERE left_out IS NULL AND started_in_period
UNION ALL
SELECT 'df.packages.started_from_hospital', 'count', file_id, file_name, source_row, row_key, 1
FROM int_packages WHERE left_out IS NULL AND started_in_period AND referral_source = 'hospital_discharge'
UNION ALL
SELECT 'df.packages.in_use', 'count', file_id, file_name, source_row, row_key, 1
FROM int_packages WHERE left_out IS NULL AND in_use_in_period
