-- The submission register (issue 22): one row per sign-off and per submission of a return.
-- Makes submission_register. Reads nothing. No patient identifier: a return is named by HWB, kind and period.
-- event: signoff | submission. A submission names the sign-off it sent (signoff_id) and, for a resubmission,
-- the submission it replaces (replaces).
CREATE TABLE IF NOT EXISTS submission_register (
    id              VARCHAR PRIMARY KEY,
    event           VARCHAR NOT NULL,
    hwb             VARCHAR NOT NULL,
    return_kind     VARCHAR NOT NULL,   -- df | bcf
    period          VARCHAR NOT NULL,   -- period end (df) or quarter label (bcf)
    fund_year       VARCHAR NOT NULL,
    workbook        VARCHAR NOT NULL,   -- the return's file name
    run_id          VARCHAR NOT NULL,   -- the run that wrote it (its audit pack)
    figures_sha256  VARCHAR NOT NULL,
    file_sha256     VARCHAR,            -- the file signed off / the copy sent
    signed_off_by   VARCHAR,
    signed_off_role VARCHAR,
    signed_off_on   DATE,
    signed_off_at   TIMESTAMP,
    narrative       VARCHAR,
    signoff_id      VARCHAR,
    sent_at         TIMESTAMP,
    transport       VARCHAR,            -- smtp | outbox-folder | outbox-s3
    recipient       VARCHAR,
    message_id      VARCHAR,
    replaces        VARCHAR,
    resend          BOOLEAN DEFAULT false,
    prefect_flow_run_id VARCHAR
);
