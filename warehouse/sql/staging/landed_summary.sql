-- What the warehouse holds per extract kind: files in force and rows received / loaded / rejected.
-- Reads files.
SELECT kind,
       count(*) FILTER (WHERE status = 'loaded') AS files_in_force,
       count(*) FILTER (WHERE status = 'superseded') AS files_superseded,
       count(*) FILTER (WHERE status = 'rejected') AS files_rejected,
       coalesce(sum(rows_received) FILTER (WHERE status = 'loaded'), 0)::BIGINT AS rows_received,
       coalesce(sum(rows_loaded) FILTER (WHERE status = 'loaded'), 0)::BIGINT AS rows_loaded,
       coalesce(sum(rows_rejected) FILTER (WHERE status = 'loaded'), 0)::BIGINT AS rows_rejected
FROM files
GROUP BY kind
ORDER BY kind;
