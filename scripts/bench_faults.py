"""A benchmark source like real extracts (issue 25), made from the clean one scripts/benchmark.py builds.

Real extracts carry faults the clean source never has; the findings path (splitting, rejected rows, findings, the
blocking check) only runs when they do. From the clean source this writes one with:
- several supplier layouts and date forms: part of the discharges CSV as Kettering's (RNQ) layout
  (config/suppliers/rnq_kettering.toml: its own column names, dates dd/mm/yyyy), beside the canonical CSV (ISO
  dates) and the trust XLSX (dd/mm/yyyy, codes as numbers), each provider's patients its own people;
- rows of other HWBs (a trust serves several): `other` of the discharge and reablement rows;
- rows rejected at `reject` of all rows (default 1%): bad codes, impossible dates, an age out of range, ICD-10
  codes that are not, keys repeated inside a file; all on other HWBs' rows, so the HWB's return is still produced
  (a rejected row that may be the HWB's blocks it, by design);
- a few % warned about: stays sent by both providers (cross.duplicate_spell) and reablement episodes with no
  discharge of that person (cross.reablement_no_discharge); and missing ready dates (no finding: a figure counts
  only the spells with one).
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OTHER_HWBS = np.array(["E06000016", "E10000018"])  # Leicester, Leicestershire: Rutland's neighbours
RNQ_SHARE = 0.35  # of the canonical CSV's rows, sent in Kettering's layout
WARN_SHARE = 0.02  # duplicate stays; and reablement episodes with no discharge
MISSING_READY = 0.03
DATES = ("admission_date", "ready_for_discharge_date", "discharge_date")


def _uk(iso: pd.Series) -> pd.Series:
    """YYYY-MM-DD as DD/MM/YYYY; blank stays blank."""
    return iso.where(iso == "", iso.str[8:10] + "/" + iso.str[5:7] + "/" + iso.str[0:4])


def _faults(frame: pd.DataFrame, rows: np.ndarray, kinds: list[tuple[str, str]], id_col: str) -> None:
    """Make each of `rows` fail one rule, cycling through `kinds` ((column, bad value); id_col: a key repeated)."""
    for i, (column, value) in enumerate(kinds):
        at = rows[i::len(kinds)]
        if column == id_col:  # a key sent twice in a file: both rows are rejected
            pairs = at[: len(at) // 2 * 2].reshape(-1, 2)
            frame.loc[pairs[:, 1], id_col] = frame.loc[pairs[:, 0], id_col].to_numpy()
        else:
            frame.loc[at, column] = value


def make_realistic(clean: Path, out: Path, reject: float = 0.01, other: float = 0.2, seed: int = 25) -> dict[str, int]:
    """Write the realistic source into `out` from the clean source in `clean`; the counts of what was planted."""
    from bcf.devtools import synthetic as syn

    rng = np.random.default_rng(seed)
    other = max(other, reject * 1.25)  # faults go on other HWBs' rows: there must be enough of them
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for path in clean.iterdir():  # the trust XLSX, the plan and the ledger as they are
        if path.suffix in (".xlsx", ".csv") and not path.name.startswith(("discharges_rwe", "reablement_")):
            shutil.copyfile(path, out / path.name)
    planted: dict[str, int] = {}

    csv_path = next(clean.glob("discharges_rwe_*.csv"))
    d = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    n = len(d)
    others = rng.random(n) < other
    d.loc[others, "hwb_code"] = rng.choice(OTHER_HWBS, int(others.sum()))
    missing = (~others) & (rng.random(n) < MISSING_READY)
    d.loc[missing, "ready_for_discharge_date"] = ""
    # Kettering's rows: every copy of a stay (the clean source replicates a base year, '-r<k>' on the id) goes to
    # one provider, so the two providers' patients are different people and reablement still finds its discharges
    base = d["spell_id"].str.replace(r"-r\d+$", "", regex=True)
    codes, _ = pd.factorize(base)
    rnq = (rng.random(codes.max() + 1) < RNQ_SHARE)[codes]
    d.loc[rnq, "provider_code"] = "RNQ"
    # ... but a few stays are sent by both: the same person and dates as one canonical row of the HWB. The pair gets
    # a person of its own: the clean source's replicas of a stay ('-r<k>') share its person and dates, so a twin of
    # the original's person would match every replica, and the share of warnings would grow with --scale (28 % of
    # the rows at 16M); one twin, one warning, at any scale
    twins = np.flatnonzero(rnq & ~others & (rng.random(n) < WARN_SHARE / RNQ_SHARE))
    originals = rng.choice(np.flatnonzero(~rnq & ~others & (d["nhs_number"] != "").to_numpy()), len(twins),
                           replace=False)
    for col in (*DATES, "setting"):
        d.loc[twins, col] = d.loc[originals, col].to_numpy()
    pair_people = syn.valid_nhs_numbers(rng, len(twins))[: len(twins)]
    d.loc[twins, "nhs_number"] = pair_people
    d.loc[originals, "nhs_number"] = pair_people
    planted["discharges.duplicate_stays"] = len(twins)
    bad = rng.permutation(np.flatnonzero(others))[: int(round(reject * n))]
    _faults(d, bad, [("discharge_pathway", "7"), ("discharge_date", "2023-02-30"), ("age", "130"),
                     ("primary_diagnosis", "??"), ("admission_method", "ZZ"), ("spell_id", "")], "spell_id")
    planted["discharges.faulted_rows"] = len(bad)
    planted["discharges.other_hwb_rows"] = int(others.sum())
    planted["discharges.missing_ready"] = int(missing.sum())

    canonical = d[~rnq]
    canonical.to_csv(out / csv_path.name, index=False)
    mapping = tomllib.loads((ROOT / "config" / "suppliers" / "rnq_kettering.toml").read_text())["columns"]
    theirs = {ours: name for name, ours in mapping.items()}
    k = d[rnq].copy()
    for col in DATES:
        k[col] = _uk(k[col].str[:10])
    k = k.rename(columns=theirs)[[theirs.get(c, c) for c in d.columns if theirs.get(c)]]
    k.to_csv(out / csv_path.name.replace("discharges_rwe", "discharges_rnq"), index=False)
    planted["discharges.rnq_rows"] = len(k)

    reab_path = next(clean.glob("reablement_*.csv"))
    r = pd.read_csv(reab_path, dtype=str, keep_default_na=False)
    m = len(r)
    others = rng.random(m) < other
    r.loc[others, "hwb_code"] = rng.choice(OTHER_HWBS, int(others.sum()))
    lost = np.flatnonzero(~others & (rng.random(m) < WARN_SHARE) & (r["nhs_number"] != "").to_numpy())
    r.loc[lost, "nhs_number"] = syn.valid_nhs_numbers(rng, len(lost))[: len(lost)]
    planted["reablement.no_discharge"] = len(lost)
    bad = rng.permutation(np.flatnonzero(others))[: int(round(reject * m))]
    _faults(r, bad, [("start_date", "2023-13-01"), ("episode_id", "")], "episode_id")
    planted["reablement.faulted_rows"] = len(bad)
    r.to_csv(out / reab_path.name, index=False)
    return planted
