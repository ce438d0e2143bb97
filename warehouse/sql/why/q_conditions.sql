-- Mirrors q_conditions.sql.
-- family: q.condition | National conditions for the quarter
-- returns: q
-- table: plan_conditions
-- figures: ^q\.condition\.
-- key: 'conditions:' || period || '/' || condition
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_quarter: another quarter [period]
period = $quarter
