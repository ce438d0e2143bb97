-- Makes the numerators and denominators of q.metric.discharge_usual_residence, .avoidable_admissions, .falls and
-- .reablement_91d for the quarter Q, and the rows behind q.metric.<m>.plan and q.metric.residential_admissions.actual.
-- Reads int_acute_discharges, int_emergency_admissions, int_population, int_cohort_91d, int_metric_plans,
-- int_metric_actuals, codes (ACSC prefixes, ESP 2013 65+ bands). Ratios, the falls DSR and assessments are
-- derivations declared in bcf/returns/quarterly.py.
WITH discharged AS (SELECT * FROM int_acute_discharges WHERE in_period),
admitted AS (SELECT * FROM int_emergency_admissions WHERE in_period),
bands AS (SELECT name AS band, age_from, age_to FROM codes WHERE list = 'esp_band')
SELECT 'q.metric.discharge_usual_residence.denominator' AS figure_id, 'count' AS role, file_id, file_name,
       source_row, row_key, 1 AS contribution FROM discharged
UNION ALL
SELECT 'q.metric.discharge_usual_residence.numerator', 'count', file_id, file_name, source_row, row_key, 1
FROM discharged WHERE to_usual_residence
UNION ALL
SELECT 'q.metric.avoidable_admissions.numerator', 'count', file_id, file_name, source_row, row_key, 1
FROM admitted a WHERE EXISTS (SELECT 1 FROM codes c WHERE c.list = 'acsc' AND starts_with(a.dx, c.code))
UNION ALL
SELECT 'q.metric.avoidable_admissions.denominator', 'population', file_id, file_name, source_row, row_key,
       population FROM int_population
UNION ALL
SELECT 'q.metric.falls.numerator', 'count:' || b.band, file_id, file_name, source_row, row_key, 1
FROM admitted a JOIN bands b ON a.age >= b.age_from AND (b.age_to IS NULL OR a.age <= b.age_to)
WHERE regexp_matches(dx, '^(?:S|T[0-8][0-9]|T9[0-8])') AND regexp_matches(cause, '^W[01][0-9]')
UNION ALL
SELECT 'q.metric.falls.denominator', 'population:' || age_band, file_id, file_name, source_row, row_key, population
FROM int_population WHERE age_band IN (SELECT band FROM bands)
UNION ALL
SELECT 'q.metric.reablement_91d.denominator', 'count', file_id, file_name, source_row, row_key, 1 FROM int_cohort_91d
UNION ALL
SELECT 'q.metric.reablement_91d.numerator', 'count', file_id, file_name, source_row, row_key, 1 FROM int_cohort_91d
WHERE status_91d = 'at_home'
UNION ALL
SELECT 'q.metric.' || metric || '.plan', 'plan', file_id, file_name, source_row,
       'metric_plans:' || metric || '/' || period, coalesce(plan_value, 0)
FROM int_metric_plans
UNION ALL
SELECT 'q.metric.residential_admissions.actual', 'actual', file_id, file_name, source_row,
       'metric_actuals:' || metric || '/' || period, coalesce(value, 0)
FROM int_metric_actuals WHERE metric = 'residential_admissions'
