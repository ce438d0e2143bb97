-- Cross-source: Discharge Fund money posted to a scheme that has no DF row in the plan: it is outside every
-- df.scheme figure and so outside the DF totals.
SELECT 'warning' AS severity, s.file_name AS file, s.source_row AS "row", 'scheme_id' AS "column",
       s.scheme_id AS "value", 'cross.df_spend_unplanned_scheme' AS rule,
       'Transaction ' || s.transaction_id || ' posts ' || s.funding_source || ' money to scheme ' || s.scheme_id
       || ', which has no Discharge Fund row in the ' || $fund_year || ' plan: it is left out of the DF return.'
       AS message
FROM cur_spend s
WHERE coalesce(s.hwb_code, $hwb) = $hwb AND s.funding_source IN ('la_discharge', 'icb_discharge')
  AND s.posting_date BETWEEN $fy_start AND $period_end
  AND s.scheme_id NOT IN (
      SELECT scheme_id FROM cur_plan_schemes
      WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
        AND funding_source IN ('la_discharge', 'icb_discharge'))
