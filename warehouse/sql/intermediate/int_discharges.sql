-- Scoped hospital spells. Reads cur_discharges, run_params, codes.
--   int_acute_discharges: the run's HWB, acute, discharged (any date), deaths (destination `died`) excluded;
--     in_period: discharged in the run's period; to_usual_residence: destination `usual_place_of_residence`.
--   int_emergency_admissions: the run's HWB, acute, emergency admission method, diagnosis and cause without dots;
--     in_period: admitted in the run's period.
CREATE OR REPLACE TEMP VIEW int_acute_discharges AS
SELECT d.file_id, d.file_name, d.source_row, d.provider_code || ':' || d.spell_id AS row_key,
       d.discharge_date, d.discharge_pathway, d.discharge_destination, d.ready_for_discharge_date AS ready,
       d.discharge_date BETWEEN p.period_start AND p.period_end AS in_period,
       coalesce(d.discharge_destination IN (SELECT code FROM codes WHERE list = 'discharge_destination'
                                            AND name = 'usual_place_of_residence'), false) AS to_usual_residence
FROM cur_discharges d, run_params p
WHERE d.hwb_code = p.hwb AND d.setting = 'acute' AND d.discharge_date IS NOT NULL
  AND coalesce(d.discharge_destination NOT IN (SELECT code FROM codes WHERE list = 'discharge_destination'
                                                AND name = 'died'), true);

CREATE OR REPLACE TEMP VIEW int_emergency_admissions AS
SELECT d.file_id, d.file_name, d.source_row, d.provider_code || ':' || d.spell_id AS row_key, d.age,
       replace(upper(d.primary_diagnosis), '.', '') AS dx,
       replace(upper(coalesce(d.external_cause, '')), '.', '') AS cause,
       d.admission_date BETWEEN p.period_start AND p.period_end AS in_period
FROM cur_discharges d, run_params p
WHERE d.hwb_code = p.hwb AND d.setting = 'acute'
  AND d.admission_method IN (SELECT code FROM codes WHERE list = 'emergency_admission');
