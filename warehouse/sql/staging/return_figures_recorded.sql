-- A return's figures as last produced from the files now in force, if any run produced it (issue 25; the board
-- briefing). Reads return_figures ($return_file, $inputs).
SELECT figure_id, kind, value_json FROM return_figures
WHERE return_file = $return_file AND inputs = $inputs
QUALIFY run_id = first_value(run_id) OVER (ORDER BY produced_at DESC)
