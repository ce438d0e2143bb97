-- The lines of findings.csv after its header, as Python's csv writer wrote them from transforms.workbook.csv_safe of
-- each value (minimal quoting, CRLF line ends): the same bytes, without a Python object per finding. Reads
-- return_findings; needs csv_macros.
SELECT csv_field(csv_safe(severity)) || ',' || csv_field(csv_safe(file)) || ','
       || coalesce(CAST("row" AS VARCHAR), '') || ',' || csv_field(csv_safe("column")) || ','
       || csv_field(csv_safe("value")) || ',' || csv_field(csv_safe(rule)) || ',' || csv_field(csv_safe(message))
       || chr(13) || chr(10) AS line
FROM return_findings
ORDER BY ord
