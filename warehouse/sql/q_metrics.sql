-- The five BCF metrics for quarter Q = [$q_start, $q_end]: numerator and denominator rows, the plan row and the
-- metric_actuals row. Actuals and assessments are derived from these in Python.
WITH discharged AS (
    SELECT file_id, file_name, source_row, provider_code || ':' || spell_id AS row_key, discharge_destination
    FROM cur_discharges
    WHERE hwb_code = $hwb AND setting = 'acute' AND discharge_date BETWEEN $q_start AND $q_end
      AND coalesce(discharge_destination, '') <> '79'
), admitted AS (
    SELECT file_id, file_name, source_row, provider_code || ':' || spell_id AS row_key, age,
           replace(upper(primary_diagnosis), '.', '') AS dx, replace(upper(coalesce(external_cause, '')), '.', '') AS cause
    FROM cur_discharges
    WHERE hwb_code = $hwb AND setting = 'acute' AND admission_date BETWEEN $q_start AND $q_end
      AND list_contains($emergency, admission_method)
), population AS (
    SELECT file_id, file_name, source_row, 'population:' || fund_year || '/' || age_band AS row_key, age_band,
           population
    FROM cur_plan_population WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
), cohort AS (
    SELECT file_id, file_name, source_row, episode_id AS row_key, status_91d FROM cur_reablement
    WHERE hwb_code = $hwb AND referral_source = 'hospital_discharge' AND age >= 65
      AND hospital_discharge_date BETWEEN $q_start - 91 AND $q_end - 91
)
SELECT 'q.metric.discharge_usual_residence.denominator' AS figure_id, 'count' AS role, file_id, file_name,
       source_row, row_key, 1 AS contribution FROM discharged
UNION ALL
SELECT 'q.metric.discharge_usual_residence.numerator', 'count', file_id, file_name, source_row, row_key, 1
FROM discharged WHERE discharge_destination = '19'
UNION ALL
SELECT 'q.metric.avoidable_admissions.numerator', 'count', file_id, file_name, source_row, row_key, 1
FROM admitted WHERE len(list_filter($acsc, lambda p: starts_with(dx, replace(upper(p), '.', '')))) > 0
UNION ALL
SELECT 'q.metric.avoidable_admissions.denominator', 'population', file_id, file_name, source_row, row_key,
       population FROM population
UNION ALL
SELECT 'q.metric.falls.numerator', 'count:' || age_band_65(age), file_id, file_name, source_row, row_key, 1
FROM admitted WHERE age >= 65 AND regexp_matches(dx, '^(?:S|T[0-8][0-9]|T9[0-8])')
  AND regexp_matches(cause, '^W[01][0-9]')
UNION ALL
SELECT 'q.metric.falls.denominator', 'population:' || age_band, file_id, file_name, source_row, row_key, population
FROM population WHERE age_band IN ('65-69', '70-74', '75-79', '80-84', '85-89', '90+')
UNION ALL
SELECT 'q.metric.reablement_91d.denominator', 'count', file_id, file_name, source_row, row_key, 1 FROM cohort
UNION ALL
SELECT 'q.metric.reablement_91d.numerator', 'count', file_id, file_name, source_row, row_key, 1 FROM cohort
WHERE status_91d = 'at_home'
UNION ALL
SELECT 'q.metric.' || metric || '.plan', 'plan', file_id, file_name, source_row,
       'metric_plans:' || metric || '/' || period, coalesce(plan_value, 0)
FROM cur_plan_metric_plans WHERE coalesce(hwb_code, $hwb) = $hwb AND period = $quarter
UNION ALL
SELECT 'q.metric.residential_admissions.actual', 'actual', file_id, file_name, source_row,
       'metric_actuals:' || metric || '/' || period, coalesce(value, 0)
FROM cur_plan_metric_actuals
WHERE coalesce(hwb_code, $hwb) = $hwb AND period = $quarter AND metric = 'residential_admissions'
