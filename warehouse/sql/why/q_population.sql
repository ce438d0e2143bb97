-- Mirrors `population` in q_metrics.sql (the avoidable admissions denominator: every age band).
-- family: q.population | Population of the fund year (avoidable admissions denominator, falls denominator for 65+)
-- returns: q
-- table: plan_population
-- figures: ^q\.metric\.(avoidable_admissions|falls)\.(denominator|actual)$
-- key: 'population:' || fund_year || '/' || age_band
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_fund_year: another fund year [fund_year]
fund_year = $fund_year
