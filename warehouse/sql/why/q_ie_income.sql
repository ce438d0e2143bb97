-- Mirrors the income part of q_income_expenditure.sql.
-- family: q.ie.income | Income by funding source (q.ie.*.income, .balance)
-- returns: q
-- table: plan_income
-- figures: ^q\.ie\.[a-z0-9_]+\.(income|balance)$
-- key: 'income:' || fund_year || '/' || funding_source
-- keep other_hwb: another HWB's plan row [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep other_fund_year: another fund year [fund_year]
fund_year = $fund_year
