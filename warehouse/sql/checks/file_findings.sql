-- Every finding recorded against a file not superseded, and the run's own source-level findings (an empty source, a
-- file not fetched: no file was landed for them): the first part of a return's findings (warehouse/return_findings.py).
-- Reads findings, files ($run_id).
SELECT f.severity, f.file, f."row", f."column", f."value", f.rule, f.message
FROM findings f
LEFT JOIN files x USING (file_id)
WHERE x.status IN ('loaded', 'rejected')
   OR (f.file_id IS NULL AND (f.rule LIKE 'source.%' OR f.rule LIKE 'file.%') AND f.run_id = $run_id)
ORDER BY f.file, f."row" NULLS FIRST, f."column"
