-- df.discharges.*: acute spells of the HWB discharged in the fortnight P = [$period_start, $period_end],
-- excluding destination 79 (died). Blank pathway counts as pathway_unknown.
WITH d AS (
    SELECT file_id, file_name, source_row, provider_code || ':' || spell_id AS row_key,
           discharge_pathway, discharge_destination, ready_for_discharge_date AS ready, discharge_date
    FROM cur_discharges
    WHERE hwb_code = $hwb AND setting = 'acute' AND discharge_date IS NOT NULL
      AND coalesce(discharge_destination, '') <> '79'
      AND discharge_date BETWEEN $period_start AND $period_end
)
SELECT 'df.discharges.total' AS figure_id, 'count' AS role, file_id, file_name, source_row, row_key, 1 AS contribution FROM d
UNION ALL
SELECT 'df.discharges.pathway_' || coalesce(discharge_pathway, 'unknown'), 'count', file_id, file_name, source_row, row_key, 1 FROM d
UNION ALL
SELECT 'df.discharges.usual_residence', 'count', file_id, file_name, source_row, row_key, 1 FROM d
WHERE discharge_destination = '19'
UNION ALL
SELECT 'df.discharges.with_ready_date', 'count', file_id, file_name, source_row, row_key, 1 FROM d
WHERE ready IS NOT NULL
UNION ALL
SELECT 'df.discharges.same_day', 'count', file_id, file_name, source_row, row_key, 1 FROM d
WHERE ready IS NOT NULL AND discharge_date = ready
UNION ALL
SELECT 'df.discharges.within_48h', 'count', file_id, file_name, source_row, row_key, 1 FROM d
WHERE ready IS NOT NULL AND date_diff('day', ready, discharge_date) BETWEEN 0 AND 2
UNION ALL
SELECT 'df.discharges.delay_days', 'days', file_id, file_name, source_row, row_key,
       date_diff('day', ready, discharge_date) FROM d
WHERE ready IS NOT NULL
