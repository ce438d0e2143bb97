-- Figures built from other figures' rows, so their lineage is the rows beneath them.
-- Totals over schemes, total income, and the balance (income rows +, spend rows -).
SELECT 'df.spend.' || CASE split_part(figure_id, '.', 4)
           WHEN 'planned_spend' THEN 'planned' WHEN 'spend_fortnight' THEN 'fortnight'
           WHEN 'spend_to_date' THEN 'to_date' WHEN 'spend_to_date_la' THEN 'to_date_la'
           ELSE 'to_date_icb' END AS figure_id,
       role, file_id, file_name, source_row, row_key, contribution
FROM contrib
WHERE figure_id LIKE 'df.scheme.%' AND split_part(figure_id, '.', 4) IN
      ('planned_spend', 'spend_fortnight', 'spend_to_date', 'spend_to_date_la', 'spend_to_date_icb')
UNION ALL
SELECT 'df.income.total', role, file_id, file_name, source_row, row_key, contribution
FROM contrib WHERE figure_id IN ('df.income.la', 'df.income.icb')
UNION ALL
SELECT 'df.balance', role, file_id, file_name, source_row, row_key, contribution
FROM contrib WHERE figure_id IN ('df.income.la', 'df.income.icb')
UNION ALL
SELECT 'df.balance', role, file_id, file_name, source_row, row_key, -contribution
FROM contrib WHERE figure_id LIKE 'df.scheme.%.spend_to_date'
UNION ALL
SELECT 'df.discharges.avg_delay_days', CASE figure_id WHEN 'df.discharges.delay_days' THEN 'numerator'
       ELSE 'denominator' END, file_id, file_name, source_row, row_key, contribution
FROM contrib WHERE figure_id IN ('df.discharges.delay_days', 'df.discharges.with_ready_date')
