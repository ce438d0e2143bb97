-- The findings of return_findings by rule and file: how many, and the first (in findings.csv's order) as the
-- example; errors first, then the largest groups (transforms.findings.summarise, in SQL).
SELECT severity, rule, file, count(*) AS count,
       arg_min({'row': "row", 'column': "column", 'value': "value", 'message': message}, ord) AS example
FROM return_findings
GROUP BY severity, rule, file
ORDER BY severity <> 'error', count DESC, file, rule, severity
