"""Deployments served by `bcf serve`: the fortnightly return every 14 days, anchored on the first national
Discharge Fund submission date (Friday 6 January 2023), and the quarterly return after each quarter end."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from prefect.schedules import Interval, RRule, Schedule

from bcf.core.dates import fortnight_anchor
from bcf.core.settings import settings
from bcf.flows.common import run_tags
from bcf.flows.fortnightly import fortnightly_flow
from bcf.flows.quarterly import quarterly_flow

LONDON = ZoneInfo("Europe/London")
RUN_AT = dt.time(7, 0)  # early morning on submission day, before the officer starts work


def fortnight_schedule() -> Schedule:
    anchor = fortnight_anchor()
    return Interval(dt.timedelta(days=14), anchor_date=dt.datetime.combine(anchor, RUN_AT, tzinfo=LONDON),
                    timezone="Europe/London")


def quarter_schedule() -> Schedule:
    """The run day of January, April, July and October (the quarter just ended is complete by then), moved to the
    next working day when it falls on a weekend (core.dates.quarterly_run_date): the first of run day, +1, +2 that
    is Monday to Friday."""
    day = int(settings()["quarterly"]["run_day"])
    days = ",".join(str(d) for d in range(day, day + 3))
    start = f"{fortnight_anchor():%Y%m%d}T{RUN_AT:%H%M%S}"
    return RRule(f"DTSTART:{start}\nRRULE:FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY={days};"
                 "BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1", timezone="Europe/London")


def build_deployments(source: str, hwb: str, out_dir: str, data_dir: str) -> list[Any]:
    """Parameterised by HWB and source; each run computes its own period from its run date."""
    common = {"source": source, "hwb": hwb, "out_dir": out_dir, "data_dir": data_dir}
    fortnightly = fortnightly_flow.to_deployment(
        name=f"discharge-fund-fortnightly-{hwb.lower()}",
        schedules=[fortnight_schedule()],
        parameters=common,
        tags=run_tags(fortnightly_flow.name, hwb),
        description="Discharge Fund fortnightly return, every 14 days from Friday 6 January 2023",
    )
    quarterly = quarterly_flow.to_deployment(
        name=f"bcf-quarterly-{hwb.lower()}",
        schedules=[quarter_schedule()],
        parameters=common,
        tags=run_tags(quarterly_flow.name, hwb),
        description="BCF quarterly return, after each quarter end, for the quarter just ended",
    )
    return [fortnightly, quarterly]


def _entrypoint(fn: Any) -> tuple[str, str]:
    """(source dir, entrypoint) for a flow function: wherever the code lives, a checkout or site-packages."""
    import inspect
    from pathlib import Path

    module_file = Path(inspect.getfile(fn.fn)).resolve()
    root = module_file.parents[1]  # the folder holding the flows package
    return str(root), f"{module_file.relative_to(root).as_posix()}:{fn.fn.__name__}"


def ensure_process_pool(pool: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def deploy_to_pool(pool: str, source: str, hwbs: list[str], out_dir: str, data_root: str,
                   schedules: bool = True) -> list[tuple[str, Any]]:
    """The same two deployments per HWB as `bcf serve`, registered on a work pool instead of served: any worker of
    the pool runs them. Each HWB gets its own data dir (<data_root>/<HWB>): runs on different workers are different
    processes, and only one process may write a DuckDB file. No image is built: a process worker runs the code
    from the folder it is installed in."""
    from prefect import flow

    ensure_process_pool(pool)
    out: list[tuple[str, Any]] = []
    for hwb in hwbs:
        common = {"source": source, "hwb": hwb, "out_dir": out_dir, "data_dir": f"{data_root.rstrip('/')}/{hwb}"}
        for fn, name, schedule in (
                (fortnightly_flow, f"discharge-fund-fortnightly-{hwb.lower()}", fortnight_schedule),
                (quarterly_flow, f"bcf-quarterly-{hwb.lower()}", quarter_schedule)):
            src, entrypoint = _entrypoint(fn)
            loaded: Any = flow.from_source(source=src, entrypoint=entrypoint)  # sync here: a Flow, not a coroutine
            # Prefect's "deploying to a process work pool" hint: said once, not once per deployment
            deployment_id = loaded.deploy(
                name=name, work_pool_name=pool, parameters=common, tags=run_tags(fn.name, hwb), build=False,
                push=False, schedules=[schedule()] if schedules else None, print_next_steps=False,
                ignore_warnings=bool(out))
            out.append((f"{fn.name}/{name}", deployment_id))
    return out


def serve_deployments(deployments: list[Any]) -> None:
    """prefect.serve, stopping cleanly on SIGTERM too: Prefect's own SIGTERM handler calls Runner.stop() inside the
    running loop, where it returns the coroutine astop() unawaited ("coroutine 'Runner.astop' was never awaited")
    and exits mid-loop. Ours schedules astop() on the loop, which ends the polling and returns; Ctrl-C as before."""
    import asyncio

    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True)
    for deployment in deployments:
        runner.add_deployment(deployment)
    stopping: list[Any] = []  # keeps the stop task referenced until it has run

    def on_sigterm(*_: Any) -> None:
        if not stopping:
            stopping.append(asyncio.get_running_loop().create_task(runner.astop()))

    runner.handle_sigterm = on_sigterm  # type: ignore[method-assign]  # Runner.start installs this for SIGTERM
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        print("bcf serve: stopped")
