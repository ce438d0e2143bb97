-- Cross-source, judged afresh on every run against the files in force (never frozen when a file was staged): the
-- ledger against the plan of the row's OWN HWB and fund year, never against every council of a shared source.
--   plan.missing           one finding per HWB and fund year that needs a plan and has none in force (schemes or
--                          income): "no plan for HWB Y in 2022-23". Its ledger rows get no finding of their own, so
--                          one cause is said once. An error in a run (it blocks the return).
--   unknown_scheme         a posting to a scheme that is not in that plan's schemes.
--   unit_mismatch          units given but unit is not the scheme's output unit in that plan.
-- Rows and plan rows without hwb_code belong to the run's HWB. $hwb = '*' (after ingest, `bcf validate`): every
-- HWB and fund year the ledger posts to, a blank hwb_code matching any (the source's own HWB is not known).
-- Otherwise: the run's HWB, its rows the return reads (posted from 1 April, or the start of a fortnight that
-- straddles it, to the period end), and the run's fund year needs a plan.
-- Reads cur_spend, cur_plan_schemes, cur_plan_income ($hwb, $fund_year, $fy_start, $period_start, $period_end).
WITH rows AS (
    SELECT s.file_name, s.source_row, s.transaction_id, s.scheme_id, s.units, s.unit,
           coalesce(s.hwb_code, CASE WHEN $hwb = '*' THEN '' ELSE $hwb END) AS hwb,
           CASE WHEN month(s.posting_date) >= 4 THEN year(s.posting_date) ELSE year(s.posting_date) - 1 END AS y,
           y::VARCHAR || '-' || lpad(((y + 1) % 100)::VARCHAR, 2, '0') AS fund_year
    FROM cur_spend s
    WHERE $hwb = '*'
       OR (coalesce(s.hwb_code, $hwb) = $hwb
           AND s.posting_date BETWEEN least($fy_start, $period_start) AND $period_end)
),
plan AS (
    SELECT coalesce(hwb_code, CASE WHEN $hwb = '*' THEN '' ELSE $hwb END) AS hwb, fund_year, scheme_id,
           max(output_unit) AS output_unit
    FROM cur_plan_schemes GROUP BY ALL
),
planned AS (  -- HWB-years with a plan in force: a scheme row or an income row
    SELECT DISTINCT hwb, fund_year FROM plan
    UNION
    SELECT DISTINCT coalesce(hwb_code, CASE WHEN $hwb = '*' THEN '' ELSE $hwb END), fund_year FROM cur_plan_income
),
needed AS (
    SELECT hwb, fund_year, min(file_name) AS file FROM rows WHERE $hwb = '*' GROUP BY ALL
    UNION ALL
    SELECT $hwb, $fund_year, NULL WHERE $hwb <> '*'
),
missing AS (  -- a blank hwb_code (only after ingest) matches any HWB's plan
    SELECT n.*, EXISTS (SELECT 1 FROM planned p WHERE p.hwb = n.hwb OR p.hwb = '' OR n.hwb = '') AS other_years
    FROM needed n
    WHERE NOT EXISTS (SELECT 1 FROM planned p
                      WHERE p.fund_year = n.fund_year AND (p.hwb = n.hwb OR p.hwb = '' OR n.hwb = ''))
),
plan_year AS (  -- a row is judged by its own fund year's plan; one posted before 1 April in a fortnight that
                -- straddles it, whose year has no plan, by the plan of the year the return counts it in
    SELECT r.*, CASE WHEN EXISTS (SELECT 1 FROM planned p WHERE p.fund_year = r.fund_year
                                  AND (p.hwb = r.hwb OR p.hwb = '' OR r.hwb = ''))
                     THEN r.fund_year ELSE coalesce($fund_year, r.fund_year) END AS year_checked
    FROM rows r
),
checked AS (
    SELECT r.file_name, r.source_row, r.transaction_id, r.scheme_id, r.units, r.unit, r.hwb,
           r.year_checked AS fund_year, bool_or(p.scheme_id IS NOT NULL) AS known, max(p.output_unit) AS output_unit
    FROM plan_year r
    LEFT JOIN plan p ON p.fund_year = r.year_checked AND p.scheme_id = r.scheme_id
         AND (p.hwb = r.hwb OR p.hwb = '' OR r.hwb = '')
    WHERE NOT EXISTS (SELECT 1 FROM missing m WHERE m.fund_year = r.year_checked AND m.hwb = r.hwb)
    GROUP BY ALL
)
-- After ingest, a ledger that reaches into a year whose plan was not sent (last year's late postings) only warns:
-- it blocks that year's returns, which a run judges; an HWB with no plan at all is an error.
SELECT CASE WHEN $hwb = '*' AND other_years THEN 'warning' ELSE 'error' END AS severity,
       coalesce(file, 'plan') AS file, NULL::BIGINT AS "row", 'hwb_code' AS "column", nullif(hwb, '') AS "value",
       'plan.missing' AS rule,
       'No plan for HWB ' || coalesce(nullif(hwb, ''), '(blank hwb_code)') || ' in ' || fund_year
       || ': no schemes or income rows of that HWB and fund year are in a plan file in force, so its return cannot be '
       || 'made (never a return of zeros). Send the plan workbook (plan*.xlsx) with that HWB''s rows.' AS message
FROM missing
UNION ALL
SELECT 'error', file_name, source_row, 'scheme_id', scheme_id, 'unknown_scheme',
       'Transaction ' || transaction_id || ' posts to scheme ' || scheme_id || ', which is not in the ' || fund_year
       || ' plan of HWB ' || coalesce(nullif(hwb, ''), '(blank hwb_code)')
       || ' in force: its money would be left out of the return, so the return is blocked. Correct the scheme id, '
       || 'or send the plan with the scheme (the ledger need not be sent again).'
FROM checked WHERE NOT known
UNION ALL
SELECT 'error', file_name, source_row, 'unit', unit, 'unit_mismatch',
       'Transaction ' || transaction_id || ' gives ' || units::VARCHAR || ' units of '
       || coalesce('''' || unit || '''', 'no unit') || ' but scheme ' || scheme_id || '''s output unit in the '
       || fund_year || ' plan is ''' || output_unit || '''.'
FROM checked WHERE known AND units IS NOT NULL AND output_unit IS NOT NULL AND unit IS DISTINCT FROM output_unit
ORDER BY 2, 3 NULLS FIRST
