"""warehouse/sql/checks/check_duplicate_spells.sql, the same stay sent by two providers: the stays sent twice are
grouped first, then only their spells are paired. The same findings as pairing every spell (the query before it,
kept here as the reference), on spells made to meet each condition and on random ones."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pyarrow as pa
import pytest

from bcf.warehouse import db

REFERENCE = """
WITH d AS (
    SELECT file_name, source_row, provider_code, spell_id, person_key, admission_date, discharge_date
    FROM cur_discharges
    WHERE hwb_code = $hwb AND setting = 'acute' AND person_key IS NOT NULL
      AND admission_date BETWEEN $fy_start AND $period_end
)
SELECT 'warning' AS severity, b.file_name AS file, b.source_row AS "row", 'spell_id' AS "column",
       b.provider_code || ':' || b.spell_id AS "value", 'cross.duplicate_spell' AS rule,
       'The same stay (person, admission and discharge dates) is also sent by ' || a.provider_code || ' as spell '
       || a.spell_id || ' (' || a.file_name || ' row ' || a.source_row || '): it would be counted twice.' AS message
FROM d a JOIN d b ON a.person_key = b.person_key AND a.admission_date = b.admission_date
     AND a.discharge_date IS NOT DISTINCT FROM b.discharge_date AND a.provider_code < b.provider_code
"""
PARAMS = {"hwb": "E06000017", "fy_start": dt.date(2022, 4, 1), "period_end": dt.date(2023, 3, 16)}
D = dt.date


def _findings(spells: list[tuple[object, ...]], query: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE cur_discharges (file_name VARCHAR, source_row BIGINT, provider_code VARCHAR, "
                "spell_id VARCHAR, person_key VARCHAR, admission_date DATE, discharge_date DATE, hwb_code VARCHAR, "
                "setting VARCHAR)")
    names = ["file_name", "source_row", "provider_code", "spell_id", "person_key", "admission_date",
             "discharge_date", "hwb_code", "setting"]
    rows = pa.table({name: [spell[i] for spell in spells] for i, name in enumerate(names)})  # noqa: F841 - read by DuckDB
    con.execute("INSERT INTO cur_discharges SELECT * FROM rows")
    return sorted(con.execute(query, {k: v for k, v in PARAMS.items() if f"${k}" in query}).fetchall())


def _spell(row: int, provider: str, person: str | None, admitted: dt.date, discharged: dt.date | None,
           hwb: str = "E06000017", setting: str = "acute") -> tuple[object, ...]:
    return (f"discharges_{provider.lower()}.csv", row, provider, f"S{row}", person, admitted, discharged, hwb, setting)


def test_each_condition_of_a_stay_sent_twice() -> None:
    spells = [
        _spell(2, "RWE", "p1", D(2022, 5, 1), D(2022, 5, 3)),
        _spell(3, "RNQ", "p1", D(2022, 5, 1), D(2022, 5, 3)),  # p1's stay from a second provider
        _spell(4, "RGN", "p1", D(2022, 5, 1), D(2022, 5, 3)),  # and a third: three pairs (RGN < RNQ < RWE)
        _spell(5, "RWE", "p2", D(2022, 6, 1), None),
        _spell(6, "RNQ", "p2", D(2022, 6, 1), None),  # both still in hospital: the same stay, flagged on RWE's
        _spell(7, "RWE", "p3", D(2022, 7, 1), None),
        _spell(8, "RNQ", "p3", D(2022, 7, 1), D(2022, 7, 2)),  # one discharged, one not: not the same
        _spell(9, "RWE", "p4", D(2022, 8, 1), D(2022, 8, 2)),
        _spell(10, "RWE", "p4", D(2022, 8, 1), D(2022, 8, 2)),  # one provider twice: a key check's business
        _spell(11, "RWE", "p5", D(2022, 9, 1), D(2022, 9, 2)),
        _spell(12, "RNQ", "p5", D(2022, 9, 1), D(2022, 9, 2), hwb="E06000016"),  # another HWB's
        _spell(13, "RNQ", "p5", D(2022, 9, 1), D(2022, 9, 2), setting="community"),  # not acute
        _spell(14, "RWE", None, D(2022, 10, 1), D(2022, 10, 2)),
        _spell(15, "RNQ", None, D(2022, 10, 1), D(2022, 10, 2)),  # no person key: no person to match
        _spell(16, "RWE", "p6", D(2023, 3, 20), D(2023, 3, 21)),
        _spell(17, "RNQ", "p6", D(2023, 3, 20), D(2023, 3, 21)),  # admitted after the period
        _spell(18, "RWE", "p7", D(2022, 11, 1), D(2022, 11, 2)),
        _spell(19, "RNQ", "p7", D(2022, 11, 2), D(2022, 11, 2)),  # another admission date
    ]
    got = _findings(spells, db.sql("check_duplicate_spells"))
    flagged = [(f[1], f[2], f[4]) for f in got]  # each pair's finding is on the later provider code's spell
    assert flagged == [("discharges_rnq.csv", 3, "RNQ:S3"), ("discharges_rwe.csv", 2, "RWE:S2"),
                       ("discharges_rwe.csv", 2, "RWE:S2"), ("discharges_rwe.csv", 5, "RWE:S5")]
    assert got == _findings(spells, REFERENCE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_findings_as_pairing_every_spell(seed: int) -> None:
    rng = random.Random(seed)
    days = [D(2022, 4, 1), D(2022, 9, 30), D(2023, 3, 16), D(2023, 3, 17), D(2022, 3, 31)]
    spells = [_spell(row, rng.choice(["RWE", "RNQ", "RGN"]), rng.choice(["p1", "p2", "p3", "p4", None]),
                     rng.choice(days), rng.choice([None, D(2023, 3, 20), D(2022, 10, 1)]),
                     rng.choice(["E06000017", "E06000017", "E06000016"]), rng.choice(["acute", "acute", "community"]))
              for row in range(2, 1500)]
    got = _findings(spells, db.sql("check_duplicate_spells"))
    assert len(got) > 100  # random spells that do meet every condition, many times over
    assert got == _findings(spells, REFERENCE)
