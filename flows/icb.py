"""Flow `icb-returns`: one run for an ICB footprint (e.g. LLR: Leicester, Rutland, Leicestershire) producing every
HWB's return from one shared source.

The source is landed and validated once (one writer). The HWBs' returns then run as concurrent Prefect tasks in this
one process: each opens its own connection to the same DuckDB file (DuckDB allows that within a process; only a
second *process* may not open it for writing), so there are never two writing processes. Each HWB succeeds, is
blocked or fails on its own; one HWB's bad data or crash does not stop the others, and each blocked or failed HWB
raises its own alert.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, runtime
from prefect.events import emit_event
from prefect.states import State

from bcf.core.dates import Fortnight, Quarter, scheduled_period_end
from bcf.core.settings import hwb_reference
from bcf.flows import fortnightly, quarterly
from bcf.flows.common import alert_on_failure, current_flow_run_id, fanout_state, report_outcome, return_resource
from bcf.flows.ingest import ingest
from bcf.run.alerts import Alert, send
from bcf.run.ledger import ledger_run


def icb_hwbs(icb: str) -> list[str]:
    codes = sorted(code for code, row in hwb_reference().items() if row["icb_code"] == icb)
    if not codes:
        raise ValueError(f"no HWB of ICB {icb} in config/hwb.csv")
    return codes


def run_name() -> str:
    """`icb QK1 2023-03-30` (fortnightly) or `icb QK1 2023-24 Q3` (quarterly)."""
    p = runtime.flow_run.parameters
    if p.get("quarter"):
        return f"icb {p.get('icb')} {Quarter.parse(str(p['quarter'])).label}"
    return f"icb {p.get('icb')} {p.get('period_end') or scheduled_period_end(dt.date.today()).isoformat()}"


@flow(name="icb-returns", flow_run_name=run_name, log_prints=True, on_failure=[alert_on_failure])
def icb_flow(source: str, icb: str, period_end: str | None = None, quarter: str | None = None,
             out_dir: str = "returns", data_dir: str = "bcf_data") -> State[Any]:
    """The fortnightly return (period_end, default: the scheduled one) or, with quarter, the quarterly return, for
    every HWB of the ICB. Its data is HWB -> written | blocked | failed: <reason>; the run ends Completed only when
    every HWB's return was written, else Failed (named Blocked when none failed) with the counts in its message."""
    logger = get_run_logger()
    hwbs = icb_hwbs(icb)
    data, out = Path(data_dir), Path(out_dir)
    end = dt.date.fromisoformat(period_end) if period_end else scheduled_period_end(dt.date.today())
    period = quarter or end.isoformat()
    shown = Quarter.parse(quarter).label if quarter else period  # as the HWB's own run names it
    status: dict[str, str] = {}
    with ledger_run(data, "icb-returns", {"source": source, "icb": icb, "period": period},
                    current_flow_run_id()) as ledger:
        ingest(source, data, ledger.run.run_id, source_wide=False)  # each HWB's produce judges its own
        futures = {}
        for hwb in hwbs:
            if quarter:
                futures[hwb] = quarterly.produce_task.submit(data, hwb, Quarter.parse(quarter), out, ledger.run)
            else:
                futures[hwb] = fortnightly.produce_task.submit(data, hwb, Fortnight.ending(end), out, ledger.run)
        for hwb, future in futures.items():
            future.wait()
            state = future.state
            if state.is_completed():
                outcome = future.result()
                status[hwb] = outcome.status
                label = f"{'bcf' if quarter else 'df'} {hwb} {shown}"
                headline = quarterly.headline if quarter else fortnightly.headline
                report_outcome("icb-returns", label, hwb, shown, outcome, headline, ledger.run.flow_run_id)
            else:
                status[hwb] = f"failed: {state.message}"
                kind = "bcf" if quarter else "df"
                emit_event(event="bcf.return.failed",
                           resource=return_resource(kind, hwb, shown, f"{kind} {hwb} {shown}"),
                           payload={"flow": "icb-returns", "reason": str(state.message)[:500]})
                send(Alert("failed", "icb-returns", hwb, period, str(state.message)[:500],
                           f"the logs of Prefect flow run {ledger.run.flow_run_id}", ledger.run.flow_run_id))
        ledger.outcome = "done" if all(s == "written" for s in status.values()) else "blocked"
        ledger.detail = "; ".join(f"{h}: {s}" for h, s in status.items())
    for hwb, s in status.items():
        (logger.info if s == "written" else logger.warning)("%s %s: %s", icb, hwb, s)
    return fanout_state(icb, status)
