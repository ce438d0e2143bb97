-- Plan values that are text or may be blank, read as values rather than summed: the national conditions, the
-- metric plans and metric_actuals of the quarter. Reads int_conditions, int_metric_plans, int_metric_actuals.
SELECT 'condition' AS what, condition AS item, confirmed AS value FROM int_conditions WHERE left_out IS NULL
UNION ALL
SELECT 'metric_plan', metric, CAST(plan_value AS VARCHAR) FROM int_metric_plans WHERE left_out IS NULL
UNION ALL
SELECT 'metric_actual', metric, CAST(value AS VARCHAR) FROM int_metric_actuals WHERE left_out IS NULL
