-- Mirrors `plan` in q_schemes.sql.
-- family: q.scheme.plan | Planned spend and output by scheme (q.scheme.*.planned_*)
-- returns: q
-- table: plan_schemes
-- figures: ^q\.scheme\.[a-z0-9_]+\.planned_
-- key: 'schemes:' || fund_year || '/' || scheme_id || '/' || funding_source
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_fund_year: another fund year [fund_year]
fund_year = $fund_year
