-- Every scheme of the fund year's plan, all funding sources: plan rows, and ledger rows year to date.
WITH plan AS (
    SELECT file_id, file_name, source_row,
           'schemes:' || fund_year || '/' || scheme_id || '/' || funding_source AS row_key,
           scheme_id, planned_spend, planned_output
    FROM cur_plan_schemes WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
), ledger AS (
    SELECT s.file_id, s.file_name, s.source_row, s.transaction_id AS row_key, s.scheme_id, s.amount, s.units
    FROM cur_spend s
    WHERE coalesce(s.hwb_code, $hwb) = $hwb AND s.posting_date BETWEEN $fy_start AND $q_end
      AND s.scheme_id IN (SELECT scheme_id FROM plan)
)
SELECT 'q.scheme.' || sid(scheme_id) || '.planned_spend' AS figure_id, 'plan' AS role, file_id, file_name,
       source_row, row_key, planned_spend AS contribution FROM plan
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.planned_output', 'plan', file_id, file_name, source_row, row_key,
       planned_output FROM plan WHERE planned_output IS NOT NULL
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.actual_spend_ytd', 'amount', file_id, file_name, source_row, row_key,
       amount FROM ledger
UNION ALL
SELECT 'q.scheme.' || sid(scheme_id) || '.actual_output_ytd', 'units', file_id, file_name, source_row, row_key,
       units FROM ledger WHERE units IS NOT NULL
