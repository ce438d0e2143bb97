-- Error findings that block a return: on a file not superseded, of a kind the return reads, for a row that could
-- belong to the run's HWB or for the whole file; and the run's
-- own source-level errors found while listing and fetching (an empty source, a file that could not be read or
-- fetched whole: file_id is NULL as no file was landed), recorded under this run ($run_id).
-- A rejected row could belong to the return unless its hwb_code as received reads as another HWB's ONS code
-- (a letter and 8 digits): the HWB's own code in any case or spacing, a blank, or a code that cannot be read
-- (E0600001, Rutland) all block, since its money or spell may be the return's. Blocked beats understated.
-- Reads findings, files, rejected_rows ($hwb, $kinds, $run_id).
SELECT * FROM (
    SELECT DISTINCT f.severity, f.file, f."row", f."column", f."value", f.rule, f.message
    FROM findings f
    JOIN files x ON x.file_id = f.file_id
    LEFT JOIN rejected_rows r ON r.file_id = f.file_id AND r.source_row = f."row"
    WHERE f.severity = 'error' AND x.status IN ('loaded', 'rejected') AND list_contains($kinds, x.kind)
      AND (f."row" IS NULL OR r.source_row IS NULL
           OR NOT regexp_full_match(upper(trim(coalesce(r.hwb_code, ''))), '[A-Z][0-9]{8}')
           OR upper(trim(r.hwb_code)) = $hwb)
    UNION ALL
    SELECT f.severity, f.file, f."row", f."column", f."value", f.rule, f.message
    FROM findings f
    WHERE f.file_id IS NULL AND f.severity = 'error' AND (f.rule LIKE 'source.%' OR f.rule LIKE 'file.%')
      AND f.run_id = $run_id
)
ORDER BY file, "row" NULLS FIRST, "column"
