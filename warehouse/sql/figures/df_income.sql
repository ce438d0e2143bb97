-- Makes df.income.<la|icb>: the fund year's Discharge Fund income from the plan. Reads int_df_income.
SELECT 'df.income.' || df_source AS figure_id, 'income' AS role, file_id, file_name, source_row, row_key,
       amount AS contribution
FROM int_df_income WHERE left_out IS NULL
