-- Makes q.cd.<service>.<yyyy_mm>.demand and .capacity for each month of Q. Demand: the HWB's acute discharges on
-- pathways 1-3 (int_acute_discharges) and community reablement starts (int_reablement); capacity: int_capacity.
-- Reads int_months. The gap is a derivation declared in bcf/returns/quarterly.py.
WITH discharged AS (
    SELECT file_id, file_name, source_row, row_key, 'pathway_' || discharge_pathway AS service,
           strftime(discharge_date, '%Y-%m') AS month
    FROM int_acute_discharges WHERE in_period AND discharge_pathway IN ('1', '2', '3')
), community AS (
    SELECT file_id, file_name, source_row, row_key,
           CASE WHEN service = 'bed_based_reablement' THEN 'community_bed' ELSE 'community_reablement' END
               AS service,
           strftime(start_date, '%Y-%m') AS month
    FROM int_reablement WHERE referral_source = 'community' AND started_in_period
), demand AS (SELECT * FROM discharged UNION ALL SELECT * FROM community)
SELECT 'q.cd.' || d.service || '.' || m.tag || '.demand' AS figure_id, 'count' AS role, file_id, file_name,
       source_row, row_key, 1 AS contribution
FROM demand d JOIN int_months m USING (month)
UNION ALL
SELECT 'q.cd.' || c.service || '.' || m.tag || '.capacity', 'plan', file_id, file_name, source_row,
       'capacity:' || c.service || '/' || c.month, capacity
FROM int_capacity c JOIN int_months m USING (month)
