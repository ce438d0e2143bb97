-- Plan values that are text or may be blank: the national conditions and metric plans of the quarter.
SELECT 'condition' AS what, condition AS item, confirmed AS value FROM cur_plan_conditions
WHERE coalesce(hwb_code, $hwb) = $hwb AND period = $quarter
UNION ALL
SELECT 'metric_plan', metric, CAST(plan_value AS VARCHAR) FROM cur_plan_metric_plans
WHERE coalesce(hwb_code, $hwb) = $hwb AND period = $quarter
UNION ALL
SELECT 'metric_actual', metric, CAST(value AS VARCHAR) FROM cur_plan_metric_actuals
WHERE coalesce(hwb_code, $hwb) = $hwb AND period = $quarter
UNION ALL
SELECT 'capacity', service || '.' || replace(month, '-', '_'), CAST(capacity AS VARCHAR) FROM cur_plan_capacity
WHERE coalesce(hwb_code, $hwb) = $hwb AND capacity IS NOT NULL
UNION ALL
SELECT 'scheme', scheme_id, min(scheme_name) FROM cur_plan_schemes
WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year GROUP BY scheme_id
