-- Mirrors `ledger` in q_schemes.sql.
-- family: q.scheme.actual | Actual spend and output by scheme, year to date (q.scheme.*.actual_*)
-- returns: q
-- table: spend
-- figures: ^q\.scheme\.[a-z0-9_]+\.actual_
-- key: transaction_id
-- keep other_hwb: posted to another HWB [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep outside_fund_year: posted outside 1 April to the quarter end [posting_date]
posting_date BETWEEN $fy_start AND $q_end
-- keep scheme_not_in_plan: its scheme is not in the fund year's plan [scheme_id]
scheme_id IN (SELECT scheme_id FROM cur_plan_schemes WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year)
