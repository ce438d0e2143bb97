-- Reablement episodes. Reads cur_reablement, run_params. Every view holds ALL of the run's current episodes, with
-- `left_out` the first reason a row is left out of the figures that read it (NULL: in); the comments above each view
-- name its reasons and families as in int_discharges.sql.

-- int_reablement: the run's HWB; started_in_period, in_use_in_period (active on any day of the period).
-- reason other_hwb: another HWB's resident [hwb_code]
CREATE OR REPLACE TEMP VIEW int_reablement AS
SELECT r.*, r.episode_id AS row_key,
       r.start_date BETWEEN p.period_start AND p.period_end AS started_in_period,
       r.start_date <= p.period_end AND (r.end_date IS NULL OR r.end_date >= p.period_start) AS in_use_in_period,
       CASE WHEN (r.hwb_code = p.hwb) IS NOT TRUE THEN 'other_hwb' END AS left_out
FROM cur_reablement r, run_params p;

-- int_packages: episodes in use on any day of the period (start <= period end, end blank or >= period start); the
--   fortnightly return counts those started in it among them.
-- family: df.packages | df | Reablement packages started or in use in the fortnight (df.packages.*) | ^df\.packages\.
-- reason started_after_period: started after the fortnight [start_date]
-- reason ended_before_period: ended before the fortnight [start_date, end_date]
CREATE OR REPLACE TEMP VIEW int_packages AS
SELECT r.* REPLACE (coalesce(r.left_out, CASE
           WHEN (r.start_date <= p.period_end) IS NOT TRUE THEN 'started_after_period'
           WHEN (r.start_date >= p.period_start OR r.end_date IS NULL OR r.end_date >= p.period_start) IS NOT TRUE
               THEN 'ended_before_period' END) AS left_out)
FROM int_reablement r, run_params p;

-- int_community_starts: episodes started in the period on a community referral (Capacity & Demand).
-- family: q.cd.community | q | Capacity & Demand: community reablement and beds started in the quarter | ^q\.cd\.community_[a-z]+\.[0-9_]+\.(demand|gap)$
-- reason outside_period: started outside the quarter [start_date]
-- reason not_community: referral source is not community [referral_source]
CREATE OR REPLACE TEMP VIEW int_community_starts AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN started_in_period IS NOT TRUE THEN 'outside_period'
                                          WHEN (referral_source = 'community') IS NOT TRUE THEN 'not_community'
                                     END) AS left_out)
FROM int_reablement;

-- int_cohort_91d: the 91-day cohort: 65+, from hospital, hospital discharge from period start - 91 days to period
--   end - 91 days (so every member has reached 91 days by the period end).
-- family: q.metric.reablement_91d | q | Still at home 91 days after discharge into reablement: the cohort | ^q\.metric\.reablement_91d\.
-- reason under_65: not in the cohort: under 65 [age]
-- reason not_from_hospital: not in the cohort: referral source is not hospital discharge [referral_source]
-- reason outside_discharge_window: not in the cohort: hospital discharge outside quarter start - 91 days to quarter end - 91 days [hospital_discharge_date]
CREATE OR REPLACE TEMP VIEW int_cohort_91d AS
SELECT r.* REPLACE (coalesce(r.left_out, CASE
           WHEN (r.age >= 65) IS NOT TRUE THEN 'under_65'
           WHEN (r.referral_source = 'hospital_discharge') IS NOT TRUE THEN 'not_from_hospital'
           WHEN (r.hospital_discharge_date BETWEEN p.period_start - 91 AND p.period_end - 91) IS NOT TRUE
               THEN 'outside_discharge_window' END) AS left_out)
FROM int_reablement r, run_params p;
