-- Makes df.discharges.total, .pathway_0 .. _3, .pathway_unknown, .usual_residence, .with_ready_date, .same_day,
-- .within_48h, .delay_days (returns.md part A). Reads int_acute_discharges: the HWB's acute discharges in the
-- fortnight P, deaths excluded (the rows without a reason left_out). A blank pathway counts as pathway_unknown.
WITH d AS (SELECT * FROM int_acute_discharges WHERE left_out IS NULL)
SELECT 'df.discharges.total' AS figure_id, 'count' AS role, file_id, file_name, source_row, row_key, 1 AS contribution FROM d
UNION ALL
SELECT 'df.discharges.pathway_' || coalesce(discharge_pathway, 'unknown'), 'count', file_id, file_name, source_row, row_key, 1 FROM d
UNION ALL
SELECT 'df.discharges.usual_residence', 'count', file_id, file_name, source_row, row_key, 1 FROM d
WHERE to_usual_residence
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
