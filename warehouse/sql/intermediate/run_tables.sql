-- Per-connection tables every return run starts from (warehouse/engine.py bind() fills them):
--   run_params: one row, the run's scope (HWB, fund year, period; for a quarter the period is the quarter).
--   codes: the code lists of config/codes.toml the figures join (destinations, DF funding sources, emergency
--          admission methods, ACSC prefixes, ESP 2013 65+ bands). No code is written in the SQL itself.
--   contrib: contribution rows, one per (figure, source row). A figure's value is built from these, so its lineage
--            is the same rows that made it. role: count | amount | units | days | plan | income | numerator | ...
CREATE OR REPLACE TEMP TABLE run_params (
    hwb VARCHAR NOT NULL,
    fund_year VARCHAR NOT NULL,
    fy_start DATE NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    quarter VARCHAR                 -- '2022-23 Q4' for a quarterly run, NULL for a fortnight
);

CREATE OR REPLACE TEMP TABLE codes (
    list VARCHAR NOT NULL,          -- discharge_destination | discharge_fund | emergency_admission | acsc | esp_band
    name VARCHAR NOT NULL,          -- what the code means here (died, la, a band label, ...)
    code VARCHAR NOT NULL,
    weight DECIMAL(18,4),           -- ESP 2013 weight of a band
    age_from INTEGER,               -- a band's ages, inclusive (age_to NULL: and older)
    age_to INTEGER
);

CREATE OR REPLACE TEMP TABLE contrib (
    figure_id VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    query_id VARCHAR NOT NULL,
    file_id VARCHAR,
    file_name VARCHAR,
    source_row BIGINT,
    row_key VARCHAR,
    contribution DECIMAL(18,4) NOT NULL
);

-- A scheme id as it appears inside a figure id: lower-cased, anything but a-z, 0-9 and _ becomes _.
CREATE OR REPLACE TEMP MACRO sid(x) AS regexp_replace(lower(x), '[^a-z0-9_]', '_', 'g');
