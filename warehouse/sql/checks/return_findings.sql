-- The findings of the return being produced, in DuckDB rather than as Python objects (issue 25: a source with a
-- fifth of its rows rejected, or two trusts both sending a year, has hundreds of thousands): the findings on the
-- files in force, then each cross-source check's, then the template's fill report. findings.csv, its summary and
-- what the console and the flow's artifacts show are all read from here (warehouse/return_findings.py).
CREATE OR REPLACE TEMP TABLE return_findings (
    ord BIGINT NOT NULL,        -- its place in findings.csv: part * 10^12 + its place in the part
    part INTEGER NOT NULL,      -- 0 the files' findings; 1, 2, ... the cross checks in turn; then the fill report
    severity VARCHAR NOT NULL,
    file VARCHAR,
    "row" BIGINT,
    "column" VARCHAR,
    "value" VARCHAR,
    rule VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);
