-- Mirrors `discharged` in q_metrics.sql.
-- family: q.metric.discharge_usual_residence | Discharge to usual place of residence: discharges in the quarter
-- returns: q
-- table: discharges
-- figures: ^q\.metric\.discharge_usual_residence\.
-- key: provider_code || ':' || spell_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep not_acute: not an acute spell [setting]
setting = 'acute'
-- keep no_discharge_date: no discharge date (still in hospital) [discharge_date]
discharge_date IS NOT NULL
-- keep died: died in hospital (destination 79) [discharge_destination]
coalesce(discharge_destination NOT IN (SELECT code FROM codes WHERE list = 'discharge_destination' AND name = 'died'), true)
-- keep outside_period: discharged outside the quarter [discharge_date]
discharge_date BETWEEN $q_start AND $q_end
