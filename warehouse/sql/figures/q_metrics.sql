-- Makes the numerators and denominators of q.metric.discharge_usual_residence, .avoidable_admissions, .falls and
-- .reablement_91d for the quarter Q, and the rows behind q.metric.<m>.plan and q.metric.residential_admissions.actual.
-- Reads int_acute_discharges, int_avoidable_admissions, int_falls_admissions, int_population, int_cohort_91d,
-- int_metric_plans, int_residential_actuals (each: the rows without a reason left_out) and codes (ESP 2013 65+
-- bands). Ratios, the falls DSR and assessments are derivations declared in bcf/returns/quarterly.py.
WITH discharged AS (SELECT * FROM int_acute_discharges WHERE left_out IS NULL),
population AS (SELECT * FROM int_population WHERE left_out IS NULL),
cohort AS (SELECT * FROM int_cohort_91d WHERE left_out IS NULL),
falls AS (SELECT * FROM int_falls_admissions WHERE left_out IS NULL),
bands AS (SELECT name AS band, age_from, age_to FROM codes WHERE list = 'esp_band')
SELECT 'q.metric.discharge_usual_residence.denominator' AS figure_id, 'count' AS role, file_id, file_name,
       source_row, row_key, 1 AS contribution FROM discharged
UNION ALL
SELECT 'q.metric.discharge_usual_residence.numerator', 'count', file_id, file_name, source_row, row_key, 1
FROM discharged WHERE to_usual_residence
UNION ALL
SELECT 'q.metric.avoidable_admissions.numerator', 'count', file_id, file_name, source_row, row_key, 1
FROM int_avoidable_admissions WHERE left_out IS NULL
UNION ALL
SELECT 'q.metric.avoidable_admissions.denominator', 'population', file_id, file_name, source_row, row_key,
       population FROM population
UNION ALL
SELECT 'q.metric.falls.numerator', 'count:' || b.band, file_id, file_name, source_row, row_key, 1
FROM falls a JOIN bands b ON a.age >= b.age_from AND (b.age_to IS NULL OR a.age <= b.age_to)
UNION ALL
SELECT 'q.metric.falls.denominator', 'population:' || age_band, file_id, file_name, source_row, row_key, population
FROM population WHERE age_band IN (SELECT band FROM bands)
UNION ALL
SELECT 'q.metric.reablement_91d.denominator', 'count', file_id, file_name, source_row, row_key, 1 FROM cohort
UNION ALL
SELECT 'q.metric.reablement_91d.numerator', 'count', file_id, file_name, source_row, row_key, 1 FROM cohort
WHERE status_91d = 'at_home'
UNION ALL
SELECT 'q.metric.' || metric || '.plan', 'plan', file_id, file_name, source_row, row_key, coalesce(plan_value, 0)
FROM int_metric_plans WHERE left_out IS NULL
UNION ALL
SELECT 'q.metric.residential_admissions.actual', 'actual', file_id, file_name, source_row, row_key, coalesce(value, 0)
FROM int_residential_actuals WHERE left_out IS NULL
