-- Makes q.cd.<service>.<yyyy_mm>.demand and .capacity for each month of Q. Demand: the HWB's acute discharges on
-- pathways 1-3 (int_pathway_discharges) and community reablement starts (int_community_starts); capacity:
-- int_capacity; each the rows without a reason left_out. Reads int_months for the yyyy_mm of the figure ids. The
-- gap is a derivation declared in bcf/returns/quarterly.py.
WITH discharged AS (
    SELECT file_id, file_name, source_row, row_key, 'pathway_' || discharge_pathway AS service,
           strftime(discharge_date, '%Y-%m') AS month
    FROM int_pathway_discharges WHERE left_out IS NULL
), community AS (
    SELECT file_id, file_name, source_row, row_key,
           CASE WHEN service = 'bed_based_reablement' THEN 'community_bed' ELSE 'community_reablement' END
               AS service,
           strftime(start_date, '%Y-%m') AS month
    FROM int_community_starts WHERE left_out IS NULL
), demand AS (SELECT * FROM discharged UNION ALL SELECT * FROM community)
SELECT 'q.cd.' || d.service || '.' || m.tag || '.demand' AS figure_id, 'count' AS role, file_id, file_name,
       source_row, row_key, 1 AS contribution
FROM demand d JOIN int_months m USING (month)
UNION ALL
SELECT 'q.cd.' || c.service || '.' || m.tag || '.capacity', 'plan', file_id, file_name, source_row, row_key, capacity
FROM int_capacity c JOIN int_months m USING (month) WHERE c.left_out IS NULL
