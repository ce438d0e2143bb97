-- Mirrors the metric_actuals rows in q_metrics.sql.
-- family: q.metric.residential_admissions | Residential admissions actual for the quarter
-- returns: q
-- table: plan_metric_actuals
-- figures: ^q\.metric\.residential_admissions\.actual$
-- key: 'metric_actuals:' || metric || '/' || period
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_quarter: another quarter [period]
period = $quarter
-- keep not_residential: only residential_admissions is taken from metric_actuals [metric]
metric = 'residential_admissions'
