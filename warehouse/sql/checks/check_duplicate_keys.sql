-- Keys are unique across every file in force, not only inside one file: each extract kind's key in
-- config/extracts.toml ((provider_code, spell_id), episode_id, transaction_id); one rule inside a file and across
-- files. The same key in two files in force (overlapping extracts, a corrected file sent under a new name) would be
-- counted twice: one error finding per later copy, naming the first. A file superseded by a file of the
-- same name has left the cur_ views, so a re-sent or corrected file of the same name is never a duplicate.
-- episode_id and transaction_id come from each council's own system, so in a source an ICB shares they repeat
-- across HWBs: two rows collide when their HWBs can be the same (equal, or either blank = the source's HWB).
-- Inside one file the suites reject a repeated (hwb_code, id) already; what reaches here from one file is a blank
-- hwb_code beside a coded one, which can be the same council's.
-- $hwb = '*' checks every HWB (after ingest); otherwise the pairs where either row belongs to the HWB.
WITH k AS (SELECT * FROM keys_in_force),  -- each extract's key as config/extracts.toml declares it
dup AS (
    SELECT d.*, row_number() OVER (ORDER BY f.received_at, d.file_name, d.source_row) AS seq
    FROM k d JOIN files f USING (file_id)
    WHERE (d.kind, d.key) IN (SELECT (kind, key) FROM k GROUP BY kind, key HAVING count(*) > 1)
),
pairs AS (
    SELECT b.kind, b.key_column, b.key, b.file_name, b.source_row, b.hwb_code,
           arg_min({'file': a.file_name, 'row': a.source_row, 'hwb': a.hwb_code}, a.seq) AS first
    FROM dup b JOIN dup a ON a.kind = b.kind AND a.key = b.key AND a.seq < b.seq
         AND (b.kind = 'discharges' OR a.hwb_code IS NULL OR b.hwb_code IS NULL OR a.hwb_code = b.hwb_code)
    GROUP BY ALL
)
SELECT 'error' AS severity, file_name AS file, source_row AS "row", key_column AS "column", key AS "value",
       'key.duplicate_across_files' AS rule,
       kind || ' key ' || key || ' is also in ' || first.file || ' row ' || first.row
       || CASE WHEN first.file = file_name THEN ' (a blank hwb_code is the source''s HWB)' ELSE '' END
       || ', a file in force: the row would be counted twice, so the return is blocked. If this file corrects or '
       || 'replaces that one, send it under the same name (it then supersedes it); if the extracts overlap, take '
       || 'the row out of one of them.' AS message
FROM pairs
WHERE $hwb = '*' OR coalesce(hwb_code, $hwb) = $hwb OR coalesce(first.hwb, $hwb) = $hwb
ORDER BY file_name, source_row
