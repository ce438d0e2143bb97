-- Mirrors the expenditure part of q_income_expenditure.sql.
-- family: q.ie.expenditure | Expenditure by funding source, year to date (q.ie.*.expenditure_ytd, .balance)
-- returns: q
-- table: spend
-- figures: ^q\.ie\.[a-z0-9_]+\.(expenditure_ytd|balance)$
-- key: transaction_id
-- keep other_hwb: posted to another HWB [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep outside_fund_year: posted outside 1 April to the quarter end [posting_date]
posting_date BETWEEN $fy_start AND $q_end
