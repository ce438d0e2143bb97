-- Makes the lineage of q.condition.<n>.confirmed: the national condition's plan row for the quarter (contribution 1
-- = the row that says it; the value is the row's text, read through int_plan_values). Reads int_conditions.
SELECT 'q.condition.' || condition || '.confirmed' AS figure_id, 'plan' AS role, file_id, file_name, source_row,
       row_key, 1 AS contribution
FROM int_conditions WHERE left_out IS NULL
