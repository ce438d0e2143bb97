-- Contribution rows: one per (figure, source row). A figure's value is built from these, so its lineage is the
-- same rows that made it. role: count | amount | units | days | plan | income | numerator | denominator.
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
