-- Ratio metrics: their lineage is their numerator's and denominator's rows.
SELECT replace(figure_id, split_part(figure_id, '.', 4), 'actual') AS figure_id,
       split_part(figure_id, '.', 4) AS role, file_id, file_name, source_row, row_key, contribution
FROM contrib
WHERE figure_id LIKE 'q.metric.%.numerator' OR figure_id LIKE 'q.metric.%.denominator'
