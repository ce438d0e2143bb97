-- Rows of files that are in force: a superseded or rejected file's rows stay on record but leave these views.
-- Each view also carries the file name so lineage can name the original file.
CREATE OR REPLACE VIEW cur_discharges AS
    SELECT s.*, f.file_name FROM stg_discharges s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_reablement AS
    SELECT s.*, f.file_name FROM stg_reablement s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_spend AS
    SELECT s.*, f.file_name FROM stg_spend s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_schemes AS
    SELECT s.*, f.file_name FROM stg_plan_schemes s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_income AS
    SELECT s.*, f.file_name FROM stg_plan_income s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_metric_plans AS
    SELECT s.*, f.file_name FROM stg_plan_metric_plans s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_capacity AS
    SELECT s.*, f.file_name FROM stg_plan_capacity s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_population AS
    SELECT s.*, f.file_name FROM stg_plan_population s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_conditions AS
    SELECT s.*, f.file_name FROM stg_plan_conditions s JOIN files f USING (file_id) WHERE f.status = 'loaded';
CREATE OR REPLACE VIEW cur_plan_metric_actuals AS
    SELECT s.*, f.file_name FROM stg_plan_metric_actuals s JOIN files f USING (file_id) WHERE f.status = 'loaded';

-- Every staged row's keyed hash of its raw values: lineage carries it so a revision can tell a changed row
-- (same key, other values) from an unchanged one. A plan workbook has a sheet per table, so there `sheet` (the
-- prefix of the lineage row key) tells rows with the same row number apart.
CREATE OR REPLACE VIEW all_row_hashes AS
    SELECT file_id, source_row, row_hash, NULL AS sheet FROM stg_discharges
    UNION ALL SELECT file_id, source_row, row_hash, NULL FROM stg_reablement
    UNION ALL SELECT file_id, source_row, row_hash, NULL FROM stg_spend
    UNION ALL SELECT file_id, source_row, row_hash, 'schemes' FROM stg_plan_schemes
    UNION ALL SELECT file_id, source_row, row_hash, 'income' FROM stg_plan_income
    UNION ALL SELECT file_id, source_row, row_hash, 'metric_plans' FROM stg_plan_metric_plans
    UNION ALL SELECT file_id, source_row, row_hash, 'capacity' FROM stg_plan_capacity
    UNION ALL SELECT file_id, source_row, row_hash, 'population' FROM stg_plan_population
    UNION ALL SELECT file_id, source_row, row_hash, 'conditions' FROM stg_plan_conditions
    UNION ALL SELECT file_id, source_row, row_hash, 'metric_actuals' FROM stg_plan_metric_actuals;
