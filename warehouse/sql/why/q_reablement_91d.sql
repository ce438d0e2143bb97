-- Mirrors `cohort` in q_metrics.sql.
-- family: q.metric.reablement_91d | Still at home 91 days after discharge into reablement: the cohort
-- returns: q
-- table: reablement
-- figures: ^q\.metric\.reablement_91d\.
-- key: episode_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep not_from_hospital: not in the cohort: referral source is not hospital discharge [referral_source]
referral_source = 'hospital_discharge'
-- keep under_65: not in the cohort: under 65 [age]
age >= 65
-- keep outside_discharge_window: not in the cohort: hospital discharge outside quarter start - 91 days to quarter end - 91 days [hospital_discharge_date]
hospital_discharge_date BETWEEN $q_start - 91 AND $q_end - 91
