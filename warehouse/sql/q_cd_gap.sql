-- gap = capacity - demand: capacity rows count +, demand rows count -.
SELECT replace(figure_id, '.capacity', '.gap') AS figure_id, role, file_id, file_name, source_row, row_key,
       contribution
FROM contrib WHERE figure_id LIKE 'q.cd.%.capacity'
UNION ALL
SELECT replace(figure_id, '.demand', '.gap'), role, file_id, file_name, source_row, row_key, -contribution
FROM contrib WHERE figure_id LIKE 'q.cd.%.demand'
