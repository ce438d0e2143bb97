-- Mirrors df_income.sql.
-- family: df.income | Discharge Fund income (df.income.*, df.balance)
-- returns: df
-- table: plan_income
-- figures: ^df\.(income\.|balance|check\.)
-- key: 'income:' || fund_year || '/' || funding_source
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_fund_year: another fund year [fund_year]
fund_year = $fund_year
-- keep not_df_money: not Discharge Fund money [funding_source]
funding_source IN (SELECT code FROM codes WHERE list = 'discharge_fund')
