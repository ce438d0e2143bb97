-- The warehouse: file manifest, staging per extract, rejected rows, findings and the run ledger.
-- Money is DECIMAL(18,2); units and hours DECIMAL(18,4). Every staged row carries file_id (the sha256 of the file
-- it came from), source_row (its row number as the supplier sees it, header = 1) and a keyed hash of its raw values.

CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    flow VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    user_name VARCHAR,
    host VARCHAR,
    code_version VARCHAR,
    parameters JSON,
    pseudonym_key VARCHAR,          -- 'configured' or 'development'
    prefect_flow_run_id VARCHAR,
    outcome VARCHAR NOT NULL,       -- running, done, blocked, failed
    detail VARCHAR
);

-- One row per distinct file content received. Re-delivery of identical bytes adds a delivery, never a file.
CREATE TABLE IF NOT EXISTS files (
    file_id VARCHAR PRIMARY KEY,    -- sha256 of the bytes
    kind VARCHAR NOT NULL,          -- discharges, reablement, spend, plan
    file_name VARCHAR NOT NULL,
    supplier VARCHAR,               -- the config/suppliers mapping applied, if any
    origin_uri VARCHAR NOT NULL,
    s3_etag VARCHAR,
    s3_version_id VARCHAR,
    size_bytes BIGINT NOT NULL,
    landed_path VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,        -- loaded, rejected (file-level fault), superseded, withdrawn (bcf withdraw)
    superseded_by VARCHAR,
    rows_received BIGINT NOT NULL DEFAULT 0,
    rows_loaded BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0
);

-- `bcf withdraw`: a landed file taken out of force by an officer (sent in error), or put back (--undo). The
-- file stays on record; its status says whether it is in force; this table says when, by whom and why.
CREATE TABLE IF NOT EXISTS withdrawals (
    file_id VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,        -- withdrawn, restored
    status_before VARCHAR NOT NULL, -- the status the file had, which --undo gives back
    withdrawn_at TIMESTAMP NOT NULL,
    by_user VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS deliveries (
    run_id VARCHAR NOT NULL,
    file_id VARCHAR NOT NULL,
    origin_uri VARCHAR NOT NULL,
    s3_etag VARCHAR,
    s3_version_id VARCHAR,
    received_at TIMESTAMP NOT NULL,
    outcome VARCHAR NOT NULL        -- new, already_received, superseding
);

CREATE TABLE IF NOT EXISTS findings (
    run_id VARCHAR NOT NULL,
    file_id VARCHAR,
    severity VARCHAR NOT NULL,
    file VARCHAR,
    "row" BIGINT,
    "column" VARCHAR,
    "value" VARCHAR,                -- NHS numbers masked to their last four digits
    rule VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    file_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,          -- the staging table the row was meant for
    source_row BIGINT NOT NULL,
    row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR,               -- as received, so a rejected row can be placed in a return's scope
    reasons VARCHAR NOT NULL,
    raw_values JSON NOT NULL        -- as received, NHS number masked
);

-- A row hash is a keyed hash, unique to its row: DuckDB's string compression cannot shrink it, and trying cost
-- staging 1.86M discharges 2.1 CPU-s against 1.8 with it stored as it is (a warehouse of 218 MB, not 160 MB).
-- Person keys repeat (a patient's spells), so they stay compressed: stored as they are too, they saved another
-- 0.3 CPU-s but took 16M discharges' peak memory from ~7.0 to ~7.4 GB. Applies to tables created from now on.
CREATE TABLE IF NOT EXISTS stg_discharges (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL USING COMPRESSION uncompressed,
    spell_id VARCHAR NOT NULL, provider_code VARCHAR NOT NULL, setting VARCHAR NOT NULL, person_key VARCHAR,
    age INTEGER NOT NULL, hwb_code VARCHAR NOT NULL, admission_date DATE NOT NULL, admission_method VARCHAR NOT NULL,
    ready_for_discharge_date DATE, discharge_date DATE, discharge_destination VARCHAR, discharge_pathway VARCHAR,
    primary_diagnosis VARCHAR NOT NULL, external_cause VARCHAR
);

CREATE TABLE IF NOT EXISTS stg_reablement (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL USING COMPRESSION uncompressed,
    episode_id VARCHAR NOT NULL, person_key VARCHAR, age INTEGER NOT NULL, hwb_code VARCHAR NOT NULL,
    referral_source VARCHAR NOT NULL, hospital_discharge_date DATE, service VARCHAR NOT NULL,
    start_date DATE NOT NULL, end_date DATE, hours_delivered DECIMAL(18,4) NOT NULL, outcome VARCHAR, status_91d VARCHAR
);

CREATE TABLE IF NOT EXISTS stg_spend (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL USING COMPRESSION uncompressed,
    transaction_id VARCHAR NOT NULL, hwb_code VARCHAR, posting_date DATE NOT NULL, scheme_id VARCHAR NOT NULL,
    funding_source VARCHAR NOT NULL, amount DECIMAL(18,2) NOT NULL, units DECIMAL(18,4), unit VARCHAR,
    cost_centre VARCHAR, supplier VARCHAR, description VARCHAR
);

CREATE TABLE IF NOT EXISTS stg_plan_schemes (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, fund_year VARCHAR NOT NULL, scheme_id VARCHAR NOT NULL, scheme_name VARCHAR NOT NULL,
    scheme_type VARCHAR NOT NULL, funding_source VARCHAR NOT NULL, planned_spend DECIMAL(18,2) NOT NULL,
    output_unit VARCHAR, planned_output DECIMAL(18,4), provider VARCHAR, commissioner VARCHAR
);

CREATE TABLE IF NOT EXISTS stg_plan_income (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, fund_year VARCHAR NOT NULL, funding_source VARCHAR NOT NULL, amount DECIMAL(18,2) NOT NULL
);

CREATE TABLE IF NOT EXISTS stg_plan_metric_plans (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, metric VARCHAR NOT NULL, period VARCHAR NOT NULL, plan_value DECIMAL(18,4)
);

CREATE TABLE IF NOT EXISTS stg_plan_capacity (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, service VARCHAR NOT NULL, month VARCHAR NOT NULL, capacity DECIMAL(18,4)
);

CREATE TABLE IF NOT EXISTS stg_plan_population (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, fund_year VARCHAR NOT NULL, age_band VARCHAR NOT NULL, population BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS stg_plan_conditions (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, period VARCHAR NOT NULL, condition VARCHAR NOT NULL, confirmed VARCHAR,
    actions VARCHAR, timeframe VARCHAR
);

CREATE TABLE IF NOT EXISTS stg_plan_metric_actuals (
    file_id VARCHAR NOT NULL, source_row BIGINT NOT NULL, row_hash VARCHAR NOT NULL,
    hwb_code VARCHAR, metric VARCHAR NOT NULL, period VARCHAR NOT NULL, value DECIMAL(18,4), source_note VARCHAR
);

-- Each return's figures as produced (issue 25): the board briefing reads a return already made here when its pack
-- is not in the output folder, and computes only what no run has made. `inputs`: the files in force when it was
-- made (sha256 of their ids), so figures made from other files are never read back as current.
CREATE TABLE IF NOT EXISTS return_figures (
    return_file VARCHAR NOT NULL,   -- the workbook's name: df_fortnightly_<hwb>_<end>.xlsx, bcf_quarterly_...
    run_id VARCHAR NOT NULL,
    produced_at TIMESTAMP NOT NULL,
    inputs VARCHAR NOT NULL,
    figure_id VARCHAR NOT NULL,
    kind VARCHAR,
    value_json VARCHAR              -- the value as the manifest records it (JSON)
);
