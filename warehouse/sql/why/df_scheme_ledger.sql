-- Mirrors the ledger part of df_schemes.sql.
-- family: df.scheme.spend | Discharge Fund spend and output by scheme (df.scheme.*.spend_*/output_*, df.spend.*)
-- returns: df
-- table: spend
-- figures: ^df\.(scheme\.[a-z0-9_]+\.(spend|output)_|spend\.(fortnight|to_date)|balance|check\.spend)
-- key: transaction_id
-- keep other_hwb: posted to another HWB [hwb_code]
coalesce(hwb_code, $hwb) = $hwb
-- keep outside_fund_year: posted neither in the period nor from 1 April of the fund year to the period end [posting_date]
posting_date BETWEEN least($fy_start, $period_start) AND $period_end
-- keep not_df_money: not Discharge Fund money [funding_source]
funding_source IN (SELECT code FROM codes WHERE list = 'discharge_fund')
-- keep scheme_not_in_df_plan: its scheme has no Discharge Fund row in the fund year's plan [scheme_id]
scheme_id IN (SELECT scheme_id FROM cur_plan_schemes WHERE coalesce(hwb_code, $hwb) = $hwb
              AND fund_year = $fund_year AND funding_source IN (SELECT code FROM codes WHERE list = 'discharge_fund'))
