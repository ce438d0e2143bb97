-- Keys are unique across every file in force, not only inside one file: (provider_code, spell_id), episode_id,
-- transaction_id. The same key in two files in force (overlapping extracts, a corrected file sent under a new name)
-- would be counted twice: one error finding per later copy, naming the first. A file superseded by a file of the
-- same name has left the cur_ views, so a re-sent or corrected file of the same name is never a duplicate.
-- $hwb = '*' checks every HWB (after ingest); otherwise the pairs where either row belongs to the HWB.
WITH k AS (
    SELECT 'provider_code+spell_id' AS key_column, 'discharges' AS kind, provider_code || '/' || spell_id AS key,
           file_id, file_name, source_row, hwb_code
    FROM cur_discharges
    UNION ALL
    SELECT 'episode_id', 'reablement', episode_id, file_id, file_name, source_row, hwb_code FROM cur_reablement
    UNION ALL
    SELECT 'transaction_id', 'spend', transaction_id, file_id, file_name, source_row, hwb_code FROM cur_spend
),
dup AS (
    SELECT * FROM k WHERE (kind, key) IN (SELECT (kind, key) FROM k GROUP BY kind, key HAVING count(*) > 1)
),
ranked AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.kind, d.key ORDER BY f.received_at, d.file_name, d.source_row) AS n
    FROM dup d JOIN files f USING (file_id)
)
SELECT 'error' AS severity, b.file_name AS file, b.source_row AS "row", b.key_column AS "column", b.key AS "value",
       'key.duplicate_across_files' AS rule,
       b.kind || ' key ' || b.key || ' is also in ' || a.file_name || ' row ' || a.source_row
       || ', a file in force: the row would be counted twice, so the return is blocked. If this file corrects or '
       || 'replaces that one, send it under the same name (it then supersedes it); if the extracts overlap, take '
       || 'the row out of one of them.' AS message
FROM ranked b JOIN ranked a ON a.kind = b.kind AND a.key = b.key AND a.n = 1
WHERE b.n > 1 AND a.file_id <> b.file_id
  AND ($hwb = '*' OR coalesce(b.hwb_code, $hwb) = $hwb OR coalesce(a.hwb_code, $hwb) = $hwb)
ORDER BY b.file_name, b.source_row
