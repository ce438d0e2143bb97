-- csv_safe(text) in SQL, for the CSV files DuckDB writes itself (lineage.csv: 800,000 rows at a region's scale are
-- written in a second, not row by row in Python). The rule of transforms.workbook.csv_safe (OWASP CSV injection):
-- text a spreadsheet would run as a formula (starting = + - @ tab or CR) gets a leading quote, unless it is a
-- number (-12.50, +3, 1e5: ASCII digits). Empty text becomes NULL: Python's csv writer writes both as an empty cell.
CREATE OR REPLACE TEMP MACRO csv_safe(v) AS
    CASE
        WHEN v = '' THEN NULL
        WHEN left(v, 1) IN ('=', '+', '-', '@', chr(9), chr(13))
             AND NOT regexp_full_match(v, '[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?') THEN '''' || v
        ELSE v
    END;
