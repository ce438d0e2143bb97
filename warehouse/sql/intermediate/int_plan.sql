-- The plan. Reads cur_plan_*, run_params, codes. Rows without hwb_code belong to the run's HWB. Every view over a
-- plan sheet holds ALL of the run's current rows of it, with `left_out` the first reason a row is left out of the
-- figures that read it (NULL: in); the comments above each view name its reasons and families as in
-- int_discharges.sql. df_source is the Discharge Fund short name (la, icb) of a DF funding source, NULL for others.

-- int_plan_schemes: the schemes sheet of the run's HWB and fund year.
-- family: q.scheme.plan | q | Planned spend and output by scheme (q.scheme.*.planned_*) | ^q\.scheme\.[a-z0-9_]+\.planned_
-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason other_fund_year: another fund year [fund_year]
CREATE OR REPLACE TEMP VIEW int_plan_schemes AS
SELECT s.*, 'schemes:' || s.fund_year || '/' || s.scheme_id || '/' || s.funding_source AS row_key,
       c.name AS df_source,
       CASE WHEN (coalesce(s.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (s.fund_year = p.fund_year) IS NOT TRUE THEN 'other_fund_year' END AS left_out
FROM cur_plan_schemes s CROSS JOIN run_params p
LEFT JOIN codes c ON c.list = 'discharge_fund' AND c.code = s.funding_source;

-- int_df_plan: of those, the Discharge Fund rows.
-- family: df.scheme.plan | df | Discharge Fund planned spend and output (df.scheme.*.planned_*, df.spend.planned) | ^df\.(scheme\.[a-z0-9_]+\.planned_|spend\.planned|check\.plan)
-- reason not_df_money: not Discharge Fund money [funding_source]
CREATE OR REPLACE TEMP VIEW int_df_plan AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN df_source IS NULL THEN 'not_df_money' END) AS left_out)
FROM int_plan_schemes;

-- Every scheme of the fund year's plan (all sources), and those with a Discharge Fund row.
CREATE OR REPLACE TEMP VIEW int_schemes AS
SELECT scheme_id, min(scheme_name) AS scheme_name FROM int_plan_schemes WHERE left_out IS NULL GROUP BY scheme_id;
CREATE OR REPLACE TEMP VIEW int_df_schemes AS
SELECT scheme_id, min(scheme_name) AS scheme_name FROM int_df_plan WHERE left_out IS NULL GROUP BY scheme_id;

-- int_plan_income: the income sheet of the run's HWB and fund year.
-- family: q.ie.income | q | Income by funding source (q.ie.*.income, .balance) | ^q\.ie\.[a-z0-9_]+\.(income|balance)$
-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason other_fund_year: another fund year [fund_year]
CREATE OR REPLACE TEMP VIEW int_plan_income AS
SELECT i.*, 'income:' || i.fund_year || '/' || i.funding_source AS row_key, c.name AS df_source,
       CASE WHEN (coalesce(i.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (i.fund_year = p.fund_year) IS NOT TRUE THEN 'other_fund_year' END AS left_out
FROM cur_plan_income i CROSS JOIN run_params p
LEFT JOIN codes c ON c.list = 'discharge_fund' AND c.code = i.funding_source;

-- int_df_income: of those, the Discharge Fund income.
-- family: df.income | df | Discharge Fund income (df.income.*, df.balance) | ^df\.(income\.|balance|check\.)
-- reason not_df_money: not Discharge Fund money [funding_source]
CREATE OR REPLACE TEMP VIEW int_df_income AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN df_source IS NULL THEN 'not_df_money' END) AS left_out)
FROM int_plan_income;

-- int_population: the population sheet of the run's HWB and fund year.
-- family: q.population | q | Population of the fund year (avoidable admissions denominator, falls denominator for 65+) | ^q\.metric\.(avoidable_admissions|falls)\.(denominator|actual)$
-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason other_fund_year: another fund year [fund_year]
CREATE OR REPLACE TEMP VIEW int_population AS
SELECT x.*, 'population:' || x.fund_year || '/' || x.age_band AS row_key,
       CASE WHEN (coalesce(x.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (x.fund_year = p.fund_year) IS NOT TRUE THEN 'other_fund_year' END AS left_out
FROM cur_plan_population x, run_params p;

-- Plan rows of the run's quarter (none for a fortnight: its quarter is NULL).
-- family: q.metric.plan | q | Metric plans for the quarter (q.metric.*.plan) | ^q\.metric\.[a-z0-9_]+\.plan$
-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason other_quarter: another quarter [period]
CREATE OR REPLACE TEMP VIEW int_metric_plans AS
SELECT x.*, 'metric_plans:' || x.metric || '/' || x.period AS row_key,
       CASE WHEN (coalesce(x.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (x.period = p.quarter) IS NOT TRUE THEN 'other_quarter' END AS left_out
FROM cur_plan_metric_plans x, run_params p;

-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason other_quarter: another quarter [period]
CREATE OR REPLACE TEMP VIEW int_metric_actuals AS
SELECT x.*, 'metric_actuals:' || x.metric || '/' || x.period AS row_key,
       CASE WHEN (coalesce(x.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (x.period = p.quarter) IS NOT TRUE THEN 'other_quarter' END AS left_out
FROM cur_plan_metric_actuals x, run_params p;

-- int_residential_actuals: of those, residential admissions (the one metric whose actual the plan gives).
-- family: q.metric.residential_admissions | q | Residential admissions actual for the quarter | ^q\.metric\.residential_admissions\.actual$
-- reason not_residential: only residential_admissions is taken from metric_actuals [metric]
CREATE OR REPLACE TEMP VIEW int_residential_actuals AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN (metric = 'residential_admissions') IS NOT TRUE
                                          THEN 'not_residential' END) AS left_out)
FROM int_metric_actuals;

-- family: q.condition | q | National conditions for the quarter | ^q\.condition\.
-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason other_quarter: another quarter [period]
CREATE OR REPLACE TEMP VIEW int_conditions AS
SELECT x.*, 'conditions:' || x.period || '/' || x.condition AS row_key,
       CASE WHEN (coalesce(x.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (x.period = p.quarter) IS NOT TRUE THEN 'other_quarter' END AS left_out
FROM cur_plan_conditions x, run_params p;

-- The months of the run's period, as yyyy-mm and as the yyyy_mm of figure ids.
CREATE OR REPLACE TEMP VIEW int_months AS
SELECT strftime(m, '%Y-%m') AS month, strftime(m, '%Y_%m') AS tag
FROM run_params p, range(p.period_start::TIMESTAMP, p.period_end::TIMESTAMP, INTERVAL 1 MONTH) t(m);

-- int_capacity: the capacity sheet of the run's HWB, the months of the period, a capacity given.
-- family: q.cd.capacity | q | Capacity by service and month of the quarter | ^q\.cd\.[a-z0-9_]+\.[0-9_]+\.(capacity|gap)$
-- reason other_hwb: another HWB's plan row [hwb_code]
-- reason outside_period: a month outside the quarter [month]
-- reason no_capacity: capacity is blank [capacity]
CREATE OR REPLACE TEMP VIEW int_capacity AS
SELECT x.*, 'capacity:' || x.service || '/' || x.month AS row_key,
       CASE WHEN (coalesce(x.hwb_code, p.hwb) = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (x.month IN (SELECT month FROM int_months)) IS NOT TRUE THEN 'outside_period'
            WHEN x.capacity IS NULL THEN 'no_capacity' END AS left_out
FROM cur_plan_capacity x, run_params p;
