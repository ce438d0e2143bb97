-- Mirrors the plan rows in q_metrics.sql.
-- family: q.metric.plan | Metric plans for the quarter (q.metric.*.plan)
-- returns: q
-- table: plan_metric_plans
-- figures: ^q\.metric\.[a-z0-9_]+\.plan$
-- key: 'metric_plans:' || metric || '/' || period
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_quarter: another quarter [period]
period = $quarter
