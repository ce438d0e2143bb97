-- Cross-source: 91-day status still blank although 91 days have passed since the hospital discharge.
-- Reads cur_reablement (the HWB's hospital referrals; $hwb, $fy_start, $period_end).
SELECT 'warning' AS severity, file_name AS file, source_row AS "row", 'status_91d' AS "column",
       episode_id AS "value", 'cross.status_91d_overdue' AS rule,
       'Episode ' || episode_id || ': 91 days after the hospital discharge of '
       || strftime(hospital_discharge_date, '%d/%m/%Y') || ' passed on '
       || strftime(hospital_discharge_date + 91, '%d/%m/%Y') || ' but status_91d is still blank.' AS message
FROM cur_reablement
WHERE hwb_code = $hwb AND referral_source = 'hospital_discharge' AND status_91d IS NULL
  AND hospital_discharge_date + 91 <= $period_end AND hospital_discharge_date >= $fy_start - 91
