-- Scoped reablement episodes. Reads cur_reablement, run_params.
--   int_reablement: the run's HWB; started_in_period, in_use_in_period (active on any day of the period).
--   int_cohort_91d: the 91-day cohort: from hospital, 65+, hospital discharge from period start - 91 days to
--     period end - 91 days.
CREATE OR REPLACE TEMP VIEW int_reablement AS
SELECT r.file_id, r.file_name, r.source_row, r.episode_id AS row_key, r.referral_source, r.service, r.age,
       r.start_date, r.end_date, r.hospital_discharge_date, r.status_91d,
       r.start_date BETWEEN p.period_start AND p.period_end AS started_in_period,
       r.start_date <= p.period_end AND (r.end_date IS NULL OR r.end_date >= p.period_start) AS in_use_in_period
FROM cur_reablement r, run_params p
WHERE r.hwb_code = p.hwb;

CREATE OR REPLACE TEMP VIEW int_cohort_91d AS
SELECT r.* FROM int_reablement r, run_params p
WHERE r.referral_source = 'hospital_discharge' AND r.age >= 65
  AND r.hospital_discharge_date BETWEEN p.period_start - 91 AND p.period_end - 91;
