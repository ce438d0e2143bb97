-- Mirrors df_packages.sql.
-- family: df.packages | Reablement packages started or in use in the fortnight (df.packages.*)
-- returns: df
-- table: reablement
-- figures: ^df\.packages\.
-- key: episode_id
-- keep other_hwb: another HWB's resident [hwb_code]
hwb_code = $hwb
-- keep started_after_period: started after the fortnight [start_date]
start_date <= $period_end
-- keep ended_before_period: ended before the fortnight [start_date, end_date]
start_date >= $period_start OR end_date IS NULL OR end_date >= $period_start
