"""`bcf signoff WORKBOOK --by NAME --role ROLE [--on DATE] [--narrative FILE]`: record that NAME signed the return
off for the Health and Wellbeing Board, bound to a hash of its figure cells (returninfo.figures_hash).

Refused for a return whose latest run was blocked (its blocked-findings file is beside it) and for one whose figures
no longer reproduce (bcf/audit/reproduce.py: rebuilt from the landed copies its manifest names). Recording the same
sign-off again (same figures, person, role, date and narrative) is a no-op: a paused scheduled run that the command
line resumed records nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bcf.core.settings import data_dir as default_data_dir
from bcf.returns.pack import sha256_file
from bcf.returns.returninfo import ReturnInfo, blocked_findings, figures_hash, load
from bcf.submission import register
from bcf.transforms.nhs_number import mask_text


class Refused(Exception):
    """The return cannot be signed off or sent as it stands (exit 1): blocked, not reproducing, not signed off,
    or its figures changed since sign-off."""


@dataclass(frozen=True)
class SignOff:
    by: str
    role: str
    on: dt.date
    narrative: str = ""


def return_data_dir(info: ReturnInfo, given: str | Path | None = None) -> Path:
    """The warehouse holding the register: --data-dir, else the data dir the run recorded, else the default."""
    if given:
        return Path(given)
    recorded = info.data_dir
    if recorded is not None and recorded.exists():
        return recorded
    return default_data_dir(None)


def check_not_blocked(workbook: Path) -> None:
    blocked = blocked_findings(workbook)
    if blocked.exists():
        raise Refused(f"{workbook.name} is blocked: its latest run was stopped by error findings ({blocked}); "
                      "a blocked return cannot be signed off")
    if not workbook.exists():
        raise FileNotFoundError(f"no workbook {workbook}")


def latest_signoff(entries: list[register.Entry]) -> register.Entry | None:
    signoffs = [e for e in entries if e.event == "signoff"]
    return signoffs[-1] if signoffs else None


def sign_off(workbook: Path, given: SignOff, data_dir: str | Path | None = None, flow_run_id: str | None = None,
             reproduce_check: bool = True) -> tuple[register.Entry, bool]:
    """Record the sign-off; returns (entry, newly recorded). Raises Refused, or ValueError for a usage error."""
    check_not_blocked(workbook)
    if not given.by.strip() or not given.role.strip():
        raise ValueError("a sign-off needs a name (--by) and a role (--role)")
    # free text the officer typed goes to the register and the national team: no NHS number in it, ever
    given = SignOff(given.by.strip(), given.role.strip(), given.on, mask_text(given.narrative))
    info = load(workbook)
    period_end = dt.date.fromisoformat(str(info.params.get("period_end"))[:10])
    if given.on > dt.date.today() or given.on < period_end:
        raise ValueError(f"--on {given.on.isoformat()}: a sign-off date is after the period ends "
                         f"({period_end.isoformat()}) and not in the future")
    figures = figures_hash(workbook, info.manifest)
    where = return_data_dir(info, data_dir)
    with register.opened(where, "bcf signoff") as con:
        for e in register.for_return(con, info.hwb, info.kind, info.period):
            if (e.event == "signoff" and e.figures_sha256 == figures and e.signed_off_by == given.by
                    and e.signed_off_role == given.role and e.signed_off_on == given.on
                    and (e.narrative or "") == given.narrative):
                return e, False
    if reproduce_check:
        from bcf.audit.reproduce import reproduce

        result = reproduce(workbook)
        if not result.same:
            detail = (result.file_differences + result.input_differences + result.figure_differences
                      + result.code_differences)
            raise Refused(f"{workbook.name}: the figures no longer reproduce, so it cannot be signed off: "
                          + ("; ".join(detail[:3]) or "the cell content differs from the record")
                          + (f" (+{len(detail) - 3} more; run bcf reproduce)" if len(detail) > 3 else ""))
    entry = register.Entry(
        id=register.new_id(), event="signoff", hwb=info.hwb, return_kind=info.kind, period=info.period,
        fund_year=info.fund_year, workbook=workbook.name, run_id=info.run_id, figures_sha256=figures,
        file_sha256=sha256_file(workbook), signed_off_by=given.by, signed_off_role=given.role,
        signed_off_on=given.on, signed_off_at=register.now(), narrative=given.narrative,
        prefect_flow_run_id=flow_run_id)
    with register.opened(where, "bcf signoff") as con:
        register.add(con, entry)
        register.write_pack_record(workbook, info.run_id, con, info.hwb, info.kind, info.period)
    return entry, True
