-- The files in force as one fingerprint (issue 25): what a recorded return's figures were made from
-- (return_figures.inputs). Reads files.
SELECT sha256(coalesce(string_agg(file_id, ',' ORDER BY file_id), '')) AS inputs
FROM files WHERE status IN ('loaded', 'rejected')
