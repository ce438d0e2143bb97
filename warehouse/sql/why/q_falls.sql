-- Mirrors `admitted` and the falls numerator in q_metrics.sql.
-- family: q.metric.falls | Falls: emergency admissions in the quarter, 65+, injury with a fall as external cause
-- returns: q
-- table: discharges
-- figures: ^q\.metric\.falls\.(numerator|actual)$
-- key: provider_code || ':' || spell_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep not_acute: not an acute spell [setting]
setting = 'acute'
-- keep outside_period: admitted outside the quarter [admission_date]
admission_date BETWEEN $q_start AND $q_end
-- keep not_emergency: not an emergency admission method [admission_method]
admission_method IN (SELECT code FROM codes WHERE list = 'emergency_admission')
-- keep under_65: not in the cohort: under 65 [age]
age >= 65
-- keep not_injury: primary diagnosis is not an injury (S00-T98) [primary_diagnosis]
regexp_matches(replace(upper(primary_diagnosis), '.', ''), '^(?:S|T[0-8][0-9]|T9[0-8])')
-- keep not_fall: external cause is not a fall (W00-W19) [external_cause]
regexp_matches(replace(upper(coalesce(external_cause, '')), '.', ''), '^W[01][0-9]')
