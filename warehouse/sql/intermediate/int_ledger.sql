-- The spend ledger in the run's scope: rows without hwb_code belong to the run's HWB. Reads cur_spend, run_params,
-- codes, int_df_plan.
--   int_ledger: postings from 1 April (or the period start, when a fortnight straddles 1 April) to the period end;
--     in_period: posted in the run's period (all of it); in_ytd: posted from 1 April of the fund year holding the
--     period end; df_source: la / icb for Discharge Fund money, else NULL.
--   int_ledger_ytd: the year to date.
--   int_df_ledger: the DF ledger: DF money posted to a scheme with a DF row in the plan (in P or to date).
--   int_funding_sources: every funding source with plan income for the fund year or a posting to date.
CREATE OR REPLACE TEMP VIEW int_ledger AS
SELECT s.file_id, s.file_name, s.source_row, s.transaction_id AS row_key, s.scheme_id, s.funding_source,
       s.posting_date, s.amount, s.units, s.posting_date BETWEEN p.period_start AND p.period_end AS in_period,
       s.posting_date >= p.fy_start AS in_ytd, c.name AS df_source
FROM cur_spend s CROSS JOIN run_params p
LEFT JOIN codes c ON c.list = 'discharge_fund' AND c.code = s.funding_source
WHERE coalesce(s.hwb_code, p.hwb) = p.hwb AND s.posting_date BETWEEN least(p.fy_start, p.period_start) AND p.period_end;

CREATE OR REPLACE TEMP VIEW int_ledger_ytd AS SELECT * FROM int_ledger WHERE in_ytd;

CREATE OR REPLACE TEMP VIEW int_df_ledger AS
SELECT * FROM int_ledger
WHERE df_source IS NOT NULL AND scheme_id IN (SELECT scheme_id FROM int_df_plan);

CREATE OR REPLACE TEMP VIEW int_funding_sources AS
SELECT funding_source FROM int_plan_income UNION SELECT funding_source FROM int_ledger_ytd;
