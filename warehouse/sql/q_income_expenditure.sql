-- Income and expenditure per funding source: plan income for the fund year, ledger spend year to date.
SELECT 'q.ie.' || funding_source || '.income' AS figure_id, 'income' AS role, file_id, file_name, source_row,
       'income:' || fund_year || '/' || funding_source AS row_key, amount AS contribution
FROM cur_plan_income WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
UNION ALL
SELECT 'q.ie.' || funding_source || '.expenditure_ytd', 'amount', file_id, file_name, source_row, transaction_id,
       amount
FROM cur_spend WHERE coalesce(hwb_code, $hwb) = $hwb AND posting_date BETWEEN $fy_start AND $q_end
