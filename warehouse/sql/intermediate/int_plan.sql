-- The plan rows in the run's scope: rows without hwb_code belong to the run's HWB. Reads cur_plan_*, run_params,
-- codes. df_source is the Discharge Fund short name (la, icb) of a DF funding source, NULL for other sources.
CREATE OR REPLACE TEMP VIEW int_plan_schemes AS
SELECT s.file_id, s.file_name, s.source_row,
       'schemes:' || s.fund_year || '/' || s.scheme_id || '/' || s.funding_source AS row_key,
       s.scheme_id, s.scheme_name, s.funding_source, s.planned_spend, s.planned_output, c.name AS df_source
FROM cur_plan_schemes s CROSS JOIN run_params p
LEFT JOIN codes c ON c.list = 'discharge_fund' AND c.code = s.funding_source
WHERE coalesce(s.hwb_code, p.hwb) = p.hwb AND s.fund_year = p.fund_year;

-- Every scheme of the fund year's plan (all sources), and those with a Discharge Fund row.
CREATE OR REPLACE TEMP VIEW int_schemes AS
SELECT scheme_id, min(scheme_name) AS scheme_name FROM int_plan_schemes GROUP BY scheme_id;
CREATE OR REPLACE TEMP VIEW int_df_plan AS SELECT * FROM int_plan_schemes WHERE df_source IS NOT NULL;
CREATE OR REPLACE TEMP VIEW int_df_schemes AS
SELECT scheme_id, min(scheme_name) AS scheme_name FROM int_df_plan GROUP BY scheme_id;

CREATE OR REPLACE TEMP VIEW int_plan_income AS
SELECT i.file_id, i.file_name, i.source_row, 'income:' || i.fund_year || '/' || i.funding_source AS row_key,
       i.funding_source, i.amount, c.name AS df_source
FROM cur_plan_income i CROSS JOIN run_params p
LEFT JOIN codes c ON c.list = 'discharge_fund' AND c.code = i.funding_source
WHERE coalesce(i.hwb_code, p.hwb) = p.hwb AND i.fund_year = p.fund_year;

CREATE OR REPLACE TEMP VIEW int_population AS
SELECT x.file_id, x.file_name, x.source_row, 'population:' || x.fund_year || '/' || x.age_band AS row_key,
       x.age_band, x.population
FROM cur_plan_population x, run_params p
WHERE coalesce(x.hwb_code, p.hwb) = p.hwb AND x.fund_year = p.fund_year;

-- Plan rows of the run's quarter (none for a fortnight: its quarter is NULL).
CREATE OR REPLACE TEMP VIEW int_metric_plans AS
SELECT x.* FROM cur_plan_metric_plans x, run_params p
WHERE coalesce(x.hwb_code, p.hwb) = p.hwb AND x.period = p.quarter;
CREATE OR REPLACE TEMP VIEW int_metric_actuals AS
SELECT x.* FROM cur_plan_metric_actuals x, run_params p
WHERE coalesce(x.hwb_code, p.hwb) = p.hwb AND x.period = p.quarter;
CREATE OR REPLACE TEMP VIEW int_conditions AS
SELECT x.* FROM cur_plan_conditions x, run_params p
WHERE coalesce(x.hwb_code, p.hwb) = p.hwb AND x.period = p.quarter;
CREATE OR REPLACE TEMP VIEW int_capacity AS
SELECT x.* FROM cur_plan_capacity x, run_params p
WHERE coalesce(x.hwb_code, p.hwb) = p.hwb AND x.capacity IS NOT NULL;

-- The months of the run's period, as yyyy-mm and as the yyyy_mm of figure ids.
CREATE OR REPLACE TEMP VIEW int_months AS
SELECT strftime(m, '%Y-%m') AS month, strftime(m, '%Y_%m') AS tag
FROM run_params p, range(p.period_start::TIMESTAMP, p.period_end::TIMESTAMP, INTERVAL 1 MONTH) t(m);
