-- Mirrors the capacity rows in q_capacity_demand.sql.
-- family: q.cd.capacity | Capacity by service and month of the quarter
-- returns: q
-- table: plan_capacity
-- figures: ^q\.cd\.[a-z0-9_]+\.[0-9_]+\.(capacity|gap)$
-- key: 'capacity:' || service || '/' || month
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep no_capacity: capacity is blank [capacity]
capacity IS NOT NULL
-- keep outside_period: a month outside the quarter [month]
month BETWEEN strftime($q_start, '%Y-%m') AND strftime($q_end, '%Y-%m')
