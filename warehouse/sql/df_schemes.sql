-- df.scheme.<sid>.*: every scheme with a Discharge Fund (la_discharge / icb_discharge) row in the plan of the fund
-- year. Plan figures sum the scheme's DF plan rows; ledger figures sum the DF postings to that scheme id.
-- Rows without hwb_code belong to the run's HWB. "In P" figures cover all of P, also the days before 1 April when P
-- straddles the fund year's start; "to date" figures start on 1 April of the fund year holding period_end.
WITH plan AS (
    SELECT file_id, file_name, source_row,
           'schemes:' || fund_year || '/' || scheme_id || '/' || funding_source AS row_key,
           scheme_id, funding_source, planned_spend, planned_output
    FROM cur_plan_schemes
    WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
      AND funding_source IN ('la_discharge', 'icb_discharge')
),
schemes AS (SELECT DISTINCT scheme_id FROM plan),
ledger AS (
    SELECT s.file_id, s.file_name, s.source_row, s.transaction_id AS row_key, s.scheme_id, s.funding_source,
           s.posting_date, s.amount, s.units
    FROM cur_spend s JOIN schemes USING (scheme_id)
    WHERE coalesce(s.hwb_code, $hwb) = $hwb AND s.funding_source IN ('la_discharge', 'icb_discharge')
      AND s.posting_date BETWEEN least($fy_start, $period_start) AND $period_end
)
SELECT 'df.scheme.' || sid(scheme_id) || '.planned_spend' AS figure_id, 'plan' AS role, file_id, file_name, source_row,
       row_key, planned_spend AS contribution
FROM plan
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.planned_output', 'plan', file_id, file_name, source_row, row_key, planned_output
FROM plan WHERE planned_output IS NOT NULL
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_fortnight', 'amount', file_id, file_name, source_row, row_key, amount
FROM ledger WHERE posting_date BETWEEN $period_start AND $period_end
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_to_date', 'amount', file_id, file_name, source_row, row_key, amount
FROM ledger WHERE posting_date >= $fy_start
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_to_date_la', 'amount', file_id, file_name, source_row, row_key, amount
FROM ledger WHERE funding_source = 'la_discharge' AND posting_date >= $fy_start
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.spend_to_date_icb', 'amount', file_id, file_name, source_row, row_key, amount
FROM ledger WHERE funding_source = 'icb_discharge' AND posting_date >= $fy_start
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.output_fortnight', 'units', file_id, file_name, source_row, row_key, units
FROM ledger WHERE units IS NOT NULL AND posting_date BETWEEN $period_start AND $period_end
UNION ALL
SELECT 'df.scheme.' || sid(scheme_id) || '.output_to_date', 'units', file_id, file_name, source_row, row_key, units
FROM ledger WHERE units IS NOT NULL AND posting_date >= $fy_start
