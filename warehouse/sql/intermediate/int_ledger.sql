-- The spend ledger. Reads cur_spend, run_params, codes, int_plan_schemes, int_df_plan, int_plan_income. Rows
-- without hwb_code belong to the run's HWB. Every view over the ledger holds ALL of the run's current postings, with
-- `left_out` the first reason a row is left out of the figures that read it (NULL: in); the comments above each view
-- name its reasons and families as in int_discharges.sql.

-- int_ledger: postings from 1 April (or the period start, when a fortnight straddles 1 April) to the period end;
--   in_period: posted in the run's period (all of it); in_ytd: posted from 1 April of the fund year holding the
--   period end; df_source: la / icb for Discharge Fund money, else NULL.
-- reason other_hwb: posted to another HWB [hwb_code]
-- reason outside_fund_year: posted neither in the period nor from 1 April of the fund year to the period end [posting_date]
CREATE OR REPLACE TEMP VIEW int_ledger AS
SELECT s.*, s.transaction_id AS row_key, s.posting_date BETWEEN p.period_start AND p.period_end AS in_period,
       s.posting_date >= p.fy_start AS in_ytd, c.name AS df_source,
       CASE WHEN (coalesce(s.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (s.posting_date BETWEEN least(p.fy_start, p.period_start) AND p.period_end) IS NOT TRUE
                THEN 'outside_fund_year' END AS left_out
FROM cur_spend s CROSS JOIN run_params p
LEFT JOIN codes c ON c.list = 'discharge_fund' AND c.code = s.funding_source;

-- int_ledger_ytd: the year to date (for a quarter, the same rows as int_ledger).
-- family: q.ie.expenditure | q | Expenditure by funding source, year to date (q.ie.*.expenditure_ytd, .balance) | ^q\.ie\.[a-z0-9_]+\.(expenditure_ytd|balance)$
-- reason outside_fund_year: posted outside 1 April to the quarter end [posting_date]
CREATE OR REPLACE TEMP VIEW int_ledger_ytd AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN in_ytd IS NOT TRUE THEN 'outside_fund_year' END) AS left_out)
FROM int_ledger;

-- int_df_ledger: the DF ledger: DF money posted to a scheme with a DF row in the plan (in P or to date).
-- family: df.scheme.spend | df | Discharge Fund spend and output by scheme (df.scheme.*.spend_*/output_*, df.spend.*) | ^df\.(scheme\.[a-z0-9_]+\.(spend|output)_|spend\.(fortnight|to_date)|balance|check\.spend)
-- reason not_df_money: not Discharge Fund money [funding_source]
-- reason scheme_not_in_df_plan: its scheme has no Discharge Fund row in the fund year's plan [scheme_id]
CREATE OR REPLACE TEMP VIEW int_df_ledger AS
SELECT * REPLACE (coalesce(left_out, CASE
           WHEN df_source IS NULL THEN 'not_df_money'
           WHEN (scheme_id IN (SELECT scheme_id FROM int_df_plan WHERE left_out IS NULL)) IS NOT TRUE
               THEN 'scheme_not_in_df_plan' END) AS left_out)
FROM int_ledger;

-- int_scheme_ledger: the year to date posted to a scheme of the fund year's plan (any funding source).
-- family: q.scheme.actual | q | Actual spend and output by scheme, year to date (q.scheme.*.actual_*) | ^q\.scheme\.[a-z0-9_]+\.actual_
-- reason scheme_not_in_plan: its scheme is not in the fund year's plan [scheme_id]
CREATE OR REPLACE TEMP VIEW int_scheme_ledger AS
SELECT * REPLACE (coalesce(left_out, CASE
           WHEN (scheme_id IN (SELECT scheme_id FROM int_plan_schemes WHERE left_out IS NULL)) IS NOT TRUE
               THEN 'scheme_not_in_plan' END) AS left_out)
FROM int_ledger_ytd;

-- int_funding_sources: every funding source with plan income for the fund year or a posting to date.
CREATE OR REPLACE TEMP VIEW int_funding_sources AS
SELECT funding_source FROM int_plan_income WHERE left_out IS NULL
UNION SELECT funding_source FROM int_ledger_ytd WHERE left_out IS NULL;
