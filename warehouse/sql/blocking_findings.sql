-- Error findings that block a return: on a file not superseded, of a kind the return reads, for a row that
-- belongs to the run's HWB (its hwb_code as received is the HWB, or blank) or for the whole file.
SELECT DISTINCT f.severity, f.file, f."row", f."column", f."value", f.rule, f.message
FROM findings f
JOIN files x ON x.file_id = f.file_id
LEFT JOIN rejected_rows r ON r.file_id = f.file_id AND r.source_row = f."row"
WHERE f.severity = 'error' AND x.status IN ('loaded', 'rejected') AND list_contains($kinds, x.kind)
  AND (f."row" IS NULL OR r.source_row IS NULL OR coalesce(nullif(r.hwb_code, ''), $hwb) = $hwb)
ORDER BY f.file, f."row" NULLS FIRST, f."column"
