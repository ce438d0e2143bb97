-- Mirrors df_discharges.sql.
-- family: df.discharges | Acute discharges in the fortnight (df.discharges.*)
-- returns: df
-- table: discharges
-- figures: ^df\.discharges\.
-- key: provider_code || ':' || spell_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep not_acute: not an acute spell [setting]
setting = 'acute'
-- keep no_discharge_date: no discharge date (still in hospital) [discharge_date]
discharge_date IS NOT NULL
-- keep died: died in hospital (destination 79) [discharge_destination]
coalesce(discharge_destination NOT IN (SELECT code FROM codes WHERE list = 'discharge_destination' AND name = 'died'), true)
-- keep outside_period: discharged outside the fortnight [discharge_date]
discharge_date BETWEEN $period_start AND $period_end
