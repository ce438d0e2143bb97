-- Mirrors the plan part of df_schemes.sql.
-- family: df.scheme.plan | Discharge Fund planned spend and output (df.scheme.*.planned_*, df.spend.planned)
-- returns: df
-- table: plan_schemes
-- figures: ^df\.(scheme\.[a-z0-9_]+\.planned_|spend\.planned|check\.plan)
-- key: 'schemes:' || fund_year || '/' || scheme_id || '/' || funding_source
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_fund_year: another fund year [fund_year]
fund_year = $fund_year
-- keep not_df_money: not Discharge Fund money [funding_source]
funding_source IN (SELECT code FROM codes WHERE list = 'discharge_fund')
