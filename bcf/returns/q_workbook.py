"""The built-in layout of the BCF quarterly workbook, with the sheets returns.md part B names."""

from __future__ import annotations

from bcf.core.settings import codes
from bcf.returns.quarterly import (
    CD_SERVICES,
    CONDITIONS,
    METRIC,
    SCHEME_SOURCES,
    SCHEMES,
    QuarterlyReturn,
)
from bcf.transforms.figures import scheme_slug
from bcf.transforms.workbook import Field, Header, LayoutCell, Ref, SheetLayout, with_unit

SOURCE_LABEL = {**codes()["funding_source_label"], "total": "Total"}


CD_SERVICE_LABEL = {
    "pathway_1": "Hospital discharge, pathway 1: home with new support (reablement, rehabilitation at home)",
    "pathway_2": "Hospital discharge, pathway 2: short-term bed (step-down, discharge to assess)",
    "pathway_3": "Hospital discharge, pathway 3: new long-term care home placement",
    "community_reablement": "Community: reablement and rehabilitation at home",
    "community_bed": "Community: bed-based intermediate care",
}
SIGNOFF_FIELDS = (("completed_by", "Completed by"), ("contact", "Contact (e-mail and telephone)"),
                  ("signed_off_by", "Signed off by (on behalf of the Health and Wellbeing Board)"),
                  ("signed_off_on", "Date signed off"))


def signoff_rows(values: dict[str, str] | None) -> list[list[LayoutCell]]:
    """The Cover's hand-completed fields, from config/settings.toml [signoff] or the command line; blank ones are
    left as shaded input cells for the officer."""
    from bcf.core.settings import settings

    given = {**settings().get("signoff", {}), **{k: v for k, v in (values or {}).items() if v}}
    rows: list[list[LayoutCell]] = [[None], [Header("Completion and sign-off"), None]]
    rows += [[label, Field(str(given.get(key, "") or ""))] for key, label in SIGNOFF_FIELDS]
    return rows


def scheme_block(sid: str, name: str | None, sources: list[str] | None = None) -> list[list[LayoutCell]]:
    """A scheme's lines on Spend and Activity: its all-sources line first. The national template has one line per
    scheme and funding source; those lines (q.scheme.<sid>.<source>.*, registry SCHEME_SOURCES) follow it, so the
    scheme lines above and below keep their order."""
    slug = scheme_slug(sid)
    first: list[LayoutCell] = [sid, name or ""]
    lines: list[list[LayoutCell]] = [first + [Ref(d.id.format(scheme=slug)) for d in SCHEMES]]
    return lines + [
        ["", f"  {SOURCE_LABEL.get(source, source)}"] + [Ref(d.id.format(scheme=slug, source=source))
                                                         for d in SCHEME_SOURCES]
        for source in sources or []]


def allowed_blank(ret: QuarterlyReturn) -> set[str]:
    """Blanks returns.md prescribes: zero denominators, absent metric_actuals or capacity."""
    return {f.id for f in ret.figures if f.value is None and (
        f.id.endswith((".actual", ".capacity", ".gap")))}


def layouts(ret: QuarterlyReturn, signoff: dict[str, str] | None = None) -> list[SheetLayout]:
    q = ret.quarter
    metric_rows: list[list[LayoutCell]] = []
    for m, metric in METRIC.items():
        has_parts = metric.parts is not None
        metric_rows.append([
            metric.label, Ref(f"q.metric.{m}.plan"),
            Ref(f"q.metric.{m}.numerator") if has_parts else None,
            Ref(f"q.metric.{m}.denominator") if has_parts else None,
            Ref(f"q.metric.{m}.actual"), Ref(f"q.metric.{m}.assessment"),
        ])
    cd_rows: list[list[LayoutCell]] = [
        [CD_SERVICE_LABEL.get(service, service), f"{month:%b %Y}", Ref(f"q.cd.{service}.{month:%Y_%m}.demand"),
         Ref(f"q.cd.{service}.{month:%Y_%m}.capacity"), Ref(f"q.cd.{service}.{month:%Y_%m}.gap")]
        for service in CD_SERVICES for month in q.months
    ]
    scheme_rows: list[list[LayoutCell]] = [
        row for sid, name in ret.schemes
        for row in scheme_block(sid, name, [source for of, source in ret.scheme_sources if of == sid])]
    ie_rows: list[list[LayoutCell]] = [
        [SOURCE_LABEL.get(s, s)] + [Ref(f"q.ie.{s}.{p}") for p in ("income", "expenditure_ytd", "balance")]
        for s in [*ret.sources, "total"]
    ]
    condition_rows: list[list[LayoutCell]] = [[f"{n}. {text}", Ref(f"q.condition.{n}.confirmed")]
                                              for n, text in CONDITIONS.items()]
    return [
        SheetLayout("Cover", f"Better Care Fund quarterly return {q.label}",
                    [[Header("Item"), Header("Value")], ["HWB code", Ref("q.hwb_code")],
                     ["HWB name", Ref("q.hwb_name")], ["Quarter", Ref("q.quarter")],
                     ["Template status", Ref("q.template_status")], *signoff_rows(signoff)],
                    widths=(58, 40),
                    notes=[f"Quarter {q.q_start:%d/%m/%Y} to {q.q_end:%d/%m/%Y}; year to date from "
                           f"{q.fy_start:%d/%m/%Y}.", "Every figure cell has a defined name equal to its figure id; "
                           "the Lineage sheet and `bcf trace` lead to the source rows."]),
        SheetLayout("National Conditions", "National conditions",
                    [[Header("National condition"), Header("Confirmed")], *condition_rows],
                    widths=(90, 14)),
        SheetLayout("Metrics", "National metrics: plan and actual for the quarter",
                    [[Header("Metric"), Header("Plan"), Header("Numerator (number)"),
                      Header("Denominator (number)"), Header("Actual"), Header("Assessment")], *metric_rows],
                    widths=(66, 12, 14, 14, 12, 36)),
        SheetLayout("Capacity & Demand", "Intermediate care capacity and demand by month (people)",
                    [[Header("Service"), Header("Month"), Header("Demand (people)"), Header("Capacity (people)"),
                      Header("Gap (people)")],
                     *cd_rows], widths=(78, 12, 12, 12, 12)),
        SheetLayout("Spend and Activity", "Spend and outputs by scheme, year to date (all funding sources)",
                    [[Header("Scheme"), Header("Scheme name / funding source"),
                      *[Header(with_unit(d.column, d.kind)) for d in SCHEMES]], *scheme_rows],
                    widths=(12, 44, 18, 18, 16, 16), freeze="C4"),
        SheetLayout("Income and Expenditure", "Income and expenditure by funding source, year to date",
                    [[Header("Funding source"), Header("Income (£)"), Header("Expenditure YTD (£)"),
                      Header("Balance (£)")],
                     *ie_rows], widths=(34, 18, 18, 18)),
    ]
