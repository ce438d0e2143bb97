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
