-- Mirrors `discharged` in q_capacity_demand.sql.
-- family: q.cd.pathway | Capacity & Demand: discharges on pathways 1-3 by month
-- returns: q
-- table: discharges
-- figures: ^q\.cd\.pathway_[123]\.[0-9_]+\.(demand|gap)$
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
-- keep not_pathway_1_3: not discharged to pathway 1, 2 or 3 [discharge_pathway]
discharge_pathway IN ('1', '2', '3')
