-- Mirrors `community` in q_capacity_demand.sql.
-- family: q.cd.community | Capacity & Demand: community reablement and beds started in the quarter
-- returns: q
-- table: reablement
-- figures: ^q\.cd\.community_[a-z]+\.[0-9_]+\.(demand|gap)$
-- key: episode_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep not_community: referral source is not community [referral_source]
referral_source = 'community'
-- keep outside_period: started outside the quarter [start_date]
start_date BETWEEN $q_start AND $q_end
