-- The warehouse: file manifest, rejected rows, findings and the run ledger (staging: see below).

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

-- The staging tables (stg_<kind>, one per extract kind and plan sheet) and their views (cur_<kind>,
-- all_row_hashes, keys_in_force) are made from config/extracts.toml by warehouse/staging_tables.py, after this file.

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
