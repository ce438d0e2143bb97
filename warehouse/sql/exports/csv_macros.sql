-- Text rules for the CSV and text DuckDB writes itself (lineage.csv, `bcf trace`: hundreds of thousands of rows at a
-- region's scale are rendered in well under a second, not row by row in Python). Each mirrors a Python helper.

-- transforms.workbook.csv_safe (OWASP CSV injection): text a spreadsheet would run as a formula (starting = + - @
-- tab or CR) gets a leading quote, unless it is a number (-12.50, +3, 1e5: ASCII digits). Empty text becomes NULL:
-- Python's csv writer writes both as an empty cell.
CREATE OR REPLACE TEMP MACRO csv_safe(v) AS
    CASE
        WHEN v = '' THEN NULL
        WHEN left(v, 1) IN ('=', '+', '-', '@', chr(9), chr(13))
             AND NOT regexp_full_match(v, '[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?') THEN '''' || v
        ELSE v
    END;

-- One CSV field as Python's csv writer (minimal quoting) writes it, and a carriage return quoted too.
CREATE OR REPLACE TEMP MACRO csv_field(v) AS
    CASE
        WHEN v IS NULL THEN ''
        WHEN regexp_matches(v, '[,"\n\r]') THEN '"' || replace(v, '"', '""') || '"'
        ELSE v
    END;

-- bcf.trace._plain: 1.0000 -> 1, 120.5000 -> 120.50 (a count reads as a count, money keeps pence).
CREATE OR REPLACE TEMP MACRO plain_number(v) AS
    CASE
        WHEN position('.' IN v) = 0 THEN v
        WHEN rtrim(split_part(v, '.', 2), '0') = '' THEN split_part(v, '.', 1)
        ELSE split_part(v, '.', 1) || '.' || rpad(rtrim(split_part(v, '.', 2), '0'),
                                                   CAST(greatest(2, length(rtrim(split_part(v, '.', 2), '0'))) AS INTEGER), '0')
    END;
