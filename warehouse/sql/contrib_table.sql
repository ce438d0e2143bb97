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

-- The 65+ age bands of the falls rate (ESP 2013), from age at admission.
CREATE OR REPLACE TEMP MACRO age_band_65(age) AS CASE
    WHEN age BETWEEN 65 AND 69 THEN '65-69' WHEN age BETWEEN 70 AND 74 THEN '70-74'
    WHEN age BETWEEN 75 AND 79 THEN '75-79' WHEN age BETWEEN 80 AND 84 THEN '80-84'
    WHEN age BETWEEN 85 AND 89 THEN '85-89' WHEN age >= 90 THEN '90+' END;
