-- df.packages.*: reablement episodes of the HWB. Started in P; of those from hospital; in use on any day of P.
WITH r AS (
    SELECT file_id, file_name, source_row, episode_id AS row_key, referral_source, start_date, end_date
    FROM cur_reablement
    WHERE hwb_code = $hwb
)
SELECT 'df.packages.started' AS figure_id, 'count' AS role, file_id, file_name, source_row, row_key, 1 AS contribution FROM r
WHERE start_date BETWEEN $period_start AND $period_end
UNION ALL
SELECT 'df.packages.started_from_hospital', 'count', file_id, file_name, source_row, row_key, 1 FROM r
WHERE start_date BETWEEN $period_start AND $period_end AND referral_source = 'hospital_discharge'
UNION ALL
SELECT 'df.packages.in_use', 'count', file_id, file_name, source_row, row_key, 1 FROM r
WHERE start_date <= $period_end AND (end_date IS NULL OR end_date >= $period_start)
