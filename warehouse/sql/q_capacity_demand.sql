-- Capacity & Demand for each month of Q: demand rows from the extracts, capacity rows from the plan.
WITH months AS (
    SELECT strftime(m, '%Y-%m') AS month, strftime(m, '%Y_%m') AS tag
    FROM range($q_start::TIMESTAMP, $q_end::TIMESTAMP, INTERVAL 1 MONTH) t(m)
), discharged AS (
    SELECT file_id, file_name, source_row, provider_code || ':' || spell_id AS row_key,
           'pathway_' || discharge_pathway AS service, strftime(discharge_date, '%Y-%m') AS month
    FROM cur_discharges
    WHERE hwb_code = $hwb AND setting = 'acute' AND discharge_date BETWEEN $q_start AND $q_end
      AND coalesce(discharge_destination, '') <> '79' AND discharge_pathway IN ('1', '2', '3')
), community AS (
    SELECT file_id, file_name, source_row, episode_id AS row_key,
           CASE WHEN service = 'bed_based_reablement' THEN 'community_bed' ELSE 'community_reablement' END
               AS service,
           strftime(start_date, '%Y-%m') AS month
    FROM cur_reablement
    WHERE hwb_code = $hwb AND referral_source = 'community' AND start_date BETWEEN $q_start AND $q_end
), demand AS (SELECT * FROM discharged UNION ALL SELECT * FROM community)
SELECT 'q.cd.' || d.service || '.' || m.tag || '.demand' AS figure_id, 'count' AS role, file_id, file_name,
       source_row, row_key, 1 AS contribution
FROM demand d JOIN months m USING (month)
UNION ALL
SELECT 'q.cd.' || c.service || '.' || m.tag || '.capacity', 'plan', file_id, file_name, source_row,
       'capacity:' || c.service || '/' || c.month, capacity
FROM cur_plan_capacity c JOIN months m USING (month)
WHERE coalesce(c.hwb_code, $hwb) = $hwb AND c.capacity IS NOT NULL
