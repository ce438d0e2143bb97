-- Hospital spells. Reads cur_discharges, run_params, codes.
-- Every view here holds ALL of the run's current discharge rows; `left_out` is the first reason a row is left out
-- of the figures that read the view (NULL: the row is in), in the order of returns.md part D. Figure models count
-- `WHERE left_out IS NULL` and `bcf why` shows the reason: the filter is written once, here. A view that adds reasons
-- to another keeps the other's reason first (coalesce). Above each view: the reasons it decides
-- (`-- reason <code>: <text why shows> [<columns why shows>]`, `{period}` = fortnight or quarter) and the families of
-- figures whose rows it decides (`-- family: <id> | <df|q> | <title> | <regex over the family's figure ids>`); see
-- docs/figures.md.

-- The codes these views test, as session variables: constants to DuckDB, so a test in a CASE is made only for the
-- rows that reach it (a subquery is joined to every row first) and the ACSC prefixes are one regular expression
-- compiled once.
SET VARIABLE died_codes = (SELECT list(code) FROM codes WHERE list = 'discharge_destination' AND name = 'died');
SET VARIABLE usual_residence_codes = (SELECT list(code) FROM codes
                                      WHERE list = 'discharge_destination' AND name = 'usual_place_of_residence');
SET VARIABLE emergency_codes = (SELECT list(code) FROM codes WHERE list = 'emergency_admission');
SET VARIABLE acsc_pattern = (SELECT '^(?:' || string_agg(regexp_escape(code), '|') || ')' FROM codes
                             WHERE list = 'acsc');

-- int_acute_discharges: acute discharges in the run's period, deaths (destination `died`) excluded;
--   to_usual_residence: destination `usual_place_of_residence`.
-- family: df.discharges | df | Acute discharges in the fortnight (df.discharges.*) | ^df\.discharges\.
-- family: q.metric.discharge_usual_residence | q | Discharge to usual place of residence: discharges in the quarter | ^q\.metric\.discharge_usual_residence\.
-- reason other_hwb: another HWB's resident [hwb_code]
-- reason not_acute: not an acute spell [setting]
-- reason no_discharge_date: no discharge date (still in hospital) [discharge_date]
-- reason died: died in hospital (destination 79) [discharge_destination]
-- reason outside_period: discharged outside the {period} [discharge_date]
CREATE OR REPLACE TEMP VIEW int_acute_discharges AS
SELECT d.*, d.provider_code || ':' || d.spell_id AS row_key, d.ready_for_discharge_date AS ready,
       coalesce(list_contains(getvariable('usual_residence_codes'), d.discharge_destination), false)
           AS to_usual_residence,
       CASE WHEN (d.hwb_code = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (d.setting = 'acute') IS NOT TRUE THEN 'not_acute'
            WHEN d.discharge_date IS NULL THEN 'no_discharge_date'
            WHEN coalesce(list_contains(getvariable('died_codes'), d.discharge_destination), false) THEN 'died'
            WHEN (d.discharge_date BETWEEN p.period_start AND p.period_end) IS NOT TRUE THEN 'outside_period'
       END AS left_out
FROM cur_discharges d, run_params p;

-- int_pathway_discharges: of those, discharged to pathway 1, 2 or 3 (Capacity & Demand).
-- family: q.cd.pathway | q | Capacity & Demand: discharges on pathways 1-3 by month | ^q\.cd\.pathway_[123]\.[0-9_]+\.(demand|gap)$
-- reason not_pathway_1_3: not discharged to pathway 1, 2 or 3 [discharge_pathway]
CREATE OR REPLACE TEMP VIEW int_pathway_discharges AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN (discharge_pathway IN ('1', '2', '3')) IS NOT TRUE
                                          THEN 'not_pathway_1_3' END) AS left_out)
FROM int_acute_discharges;

-- int_emergency_admissions: acute spells admitted in the run's period by an emergency admission method, discharged
--   or not; dx and cause are the diagnosis and external cause without dots.
-- reason other_hwb: another HWB's resident [hwb_code]
-- reason not_acute: not an acute spell [setting]
-- reason outside_period: admitted outside the quarter [admission_date]
-- reason not_emergency: not an emergency admission method [admission_method]
CREATE OR REPLACE TEMP VIEW int_emergency_admissions AS
SELECT d.*, d.provider_code || ':' || d.spell_id AS row_key, replace(upper(d.primary_diagnosis), '.', '') AS dx,
       replace(upper(coalesce(d.external_cause, '')), '.', '') AS cause,
       CASE WHEN (d.hwb_code = p.hwb) IS NOT TRUE THEN 'other_hwb'
            WHEN (d.setting = 'acute') IS NOT TRUE THEN 'not_acute'
            WHEN (d.admission_date BETWEEN p.period_start AND p.period_end) IS NOT TRUE THEN 'outside_period'
            WHEN list_contains(getvariable('emergency_codes'), d.admission_method) IS NOT TRUE
                THEN 'not_emergency'
       END AS left_out
FROM cur_discharges d, run_params p;

-- int_avoidable_admissions: of those, a primary diagnosis that is a chronic ambulatory care sensitive condition
--   (the codes' ACSC prefixes, dots ignored).
-- family: q.metric.avoidable_admissions | q | Avoidable admissions: emergency admissions in the quarter for a chronic ACSC | ^q\.metric\.avoidable_admissions\.(numerator|actual)$
-- reason not_acsc: primary diagnosis is not a chronic ambulatory care sensitive condition [primary_diagnosis]
CREATE OR REPLACE TEMP VIEW int_avoidable_admissions AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN regexp_matches(dx, getvariable('acsc_pattern')) IS NOT TRUE
                                          THEN 'not_acsc' END) AS left_out)
FROM int_emergency_admissions;

-- int_falls_admissions: of those, aged 65+, an injury (S00-T98) with a fall (W00-W19) as external cause.
-- family: q.metric.falls | q | Falls: emergency admissions in the quarter, 65+, injury with a fall as external cause | ^q\.metric\.falls\.(numerator|actual)$
-- reason under_65: not in the cohort: under 65 [age]
-- reason not_injury: primary diagnosis is not an injury (S00-T98) [primary_diagnosis]
-- reason not_fall: external cause is not a fall (W00-W19) [external_cause]
CREATE OR REPLACE TEMP VIEW int_falls_admissions AS
SELECT * REPLACE (coalesce(left_out, CASE WHEN (age >= 65) IS NOT TRUE THEN 'under_65'
                                          WHEN regexp_matches(dx, '^(?:S|T[0-8][0-9]|T9[0-8])') IS NOT TRUE
                                              THEN 'not_injury'
                                          WHEN regexp_matches(cause, '^W[01][0-9]') IS NOT TRUE THEN 'not_fall'
                                     END) AS left_out)
FROM int_emergency_admissions;
