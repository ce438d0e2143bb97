-- df.income.*: the fund year's Discharge Fund income from the plan.
SELECT CASE funding_source WHEN 'la_discharge' THEN 'df.income.la' ELSE 'df.income.icb' END AS figure_id,
       'income' AS role, file_id, file_name, source_row, 'income:' || fund_year || '/' || funding_source AS row_key,
       amount AS contribution
FROM cur_plan_income
WHERE coalesce(hwb_code, $hwb) = $hwb AND fund_year = $fund_year
  AND funding_source IN ('la_discharge', 'icb_discharge')
