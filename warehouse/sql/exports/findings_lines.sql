-- The lines of findings.csv after its header, as Python's csv writer wrote them from transforms.workbook.csv_safe of
-- each value (minimal quoting, CRLF line ends): the same bytes, without a Python object per finding. Reads
-- return_findings; needs csv_macros. The values are made safe first, then quoted: one macro inside the other
-- repeats its argument in every branch, and seven such columns took DuckDB ~60 ms to plan for any number of rows.
WITH safe AS (
    SELECT ord, csv_safe(severity) AS severity, csv_safe(file) AS file, "row", csv_safe("column") AS "column",
           csv_safe("value") AS "value", csv_safe(rule) AS rule, csv_safe(message) AS message
    FROM return_findings
)
SELECT csv_field(severity) || ',' || csv_field(file) || ',' || coalesce(CAST("row" AS VARCHAR), '') || ','
       || csv_field("column") || ',' || csv_field("value") || ',' || csv_field(rule) || ',' || csv_field(message)
       || chr(13) || chr(10) AS line
FROM safe
ORDER BY ord
