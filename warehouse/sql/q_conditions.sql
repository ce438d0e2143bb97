-- The national conditions' plan rows: lineage for q.condition.<n>.confirmed (contribution 1 = the row that says it).
SELECT 'q.condition.' || condition || '.confirmed' AS figure_id, 'plan' AS role, file_id, file_name, source_row,
       'conditions:' || period || '/' || condition AS row_key, 1 AS contribution
FROM cur_plan_conditions WHERE coalesce(hwb_code, $hwb) = $hwb AND period = $quarter
