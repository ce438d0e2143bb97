-- Mirrors `admitted` and the avoidable admissions numerator in q_metrics.sql.
-- family: q.metric.avoidable_admissions | Avoidable admissions: emergency admissions in the quarter for a chronic ACSC
-- returns: q
-- table: discharges
-- figures: ^q\.metric\.avoidable_admissions\.(numerator|actual)$
-- key: provider_code || ':' || spell_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep not_acute: not an acute spell [setting]
setting = 'acute'
-- keep outside_period: admitted outside the quarter [admission_date]
admission_date BETWEEN $q_start AND $q_end
-- keep not_emergency: not an emergency admission method [admission_method]
admission_method IN (SELECT code FROM codes WHERE list = 'emergency_admission')
-- keep not_acsc: primary diagnosis is not a chronic ambulatory care sensitive condition [primary_diagnosis]
EXISTS (SELECT 1 FROM codes c WHERE c.list = 'acsc' AND starts_with(replace(upper(primary_diagnosis), '.', ''), c.code))
