-- Cross-source: a reablement episode referred from hospital with no acute discharge of that person within 7 days.
-- Reads cur_reablement (the HWB's, $hwb, $fy_start, $period_end) and cur_discharges (any HWB: the person may live elsewhere).
WITH r AS (
    SELECT file_name, source_row, episode_id, person_key, hospital_discharge_date FROM cur_reablement
    WHERE hwb_code = $hwb AND referral_source = 'hospital_discharge' AND person_key IS NOT NULL
      AND hospital_discharge_date BETWEEN $fy_start AND $period_end
)
SELECT 'warning' AS severity, r.file_name AS file, r.source_row AS "row", 'hospital_discharge_date' AS "column",
       r.episode_id AS "value", 'cross.reablement_no_discharge' AS rule,
       'Episode ' || r.episode_id || ' is referred from hospital on '
       || strftime(r.hospital_discharge_date, '%d/%m/%Y')
       || ' but no acute discharge of that person within 7 days is in the discharge extracts.' AS message
FROM r
WHERE NOT EXISTS (
    SELECT 1 FROM cur_discharges d
    WHERE d.person_key = r.person_key AND d.setting = 'acute' AND d.discharge_date IS NOT NULL
      AND abs(date_diff('day', d.discharge_date, r.hospital_discharge_date)) <= 7
)
