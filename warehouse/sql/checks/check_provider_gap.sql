-- Cross-source: a provider that sent discharges in each of the three fortnights before P but none in P
-- (a late or missing extract).
-- Reads cur_discharges (the HWB's acute discharges in P and the six weeks before; $hwb, $period_start, $period_end).
WITH d AS (
    SELECT provider_code, discharge_date, file_name FROM cur_discharges
    WHERE hwb_code = $hwb AND setting = 'acute' AND discharge_date BETWEEN $period_start - 42 AND $period_end
), per AS (
    SELECT provider_code, min(file_name) AS file_name,
           count(*) FILTER (WHERE discharge_date >= $period_start) AS in_p,
           count(DISTINCT (date_diff('day', discharge_date, $period_start::DATE) - 1) // 14)
               FILTER (WHERE discharge_date < $period_start) AS earlier_fortnights
    FROM d GROUP BY provider_code
)
SELECT 'warning' AS severity, file_name AS file, NULL::BIGINT AS "row", 'provider_code' AS "column",
       provider_code AS "value", 'cross.provider_gap' AS rule,
       'Provider ' || provider_code || ' sent discharges in each of the three fortnights before '
       || strftime($period_start::DATE, '%d/%m/%Y') || ' but none in this period: is its extract late or missing?'
       AS message
FROM per WHERE in_p = 0 AND earlier_fortnights = 3
