-- Cross-source: Discharge Fund money posted to a scheme that has no DF row in the plan: it is outside every
-- df.scheme figure and so outside the DF totals. A scheme not in the plan at all is check_plan_in_force's error,
-- not also this warning. Reads int_ledger_ytd, int_schemes and int_df_plan.
SELECT 'warning' AS severity, s.file_name AS file, s.source_row AS "row", 'scheme_id' AS "column",
       s.scheme_id AS "value", 'cross.df_spend_unplanned_scheme' AS rule,
       'Transaction ' || s.row_key || ' posts ' || s.funding_source || ' money to scheme ' || s.scheme_id
       || ', which has no Discharge Fund row in the ' || $fund_year || ' plan: it is left out of the DF return.'
       AS message
FROM int_ledger_ytd s
WHERE s.left_out IS NULL AND s.df_source IS NOT NULL
  AND s.scheme_id NOT IN (SELECT scheme_id FROM int_df_plan WHERE left_out IS NULL)
  AND s.scheme_id IN (SELECT scheme_id FROM int_schemes)
