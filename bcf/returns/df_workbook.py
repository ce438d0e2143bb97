"""The built-in layout of the Discharge Fund fortnightly workbook: what a BCF officer reads, sheet by sheet."""

from __future__ import annotations

from bcf.returns.fortnightly import COVER, DISCHARGES, INCOME, PACKAGES, SCHEMES, TOTALS, FortnightlyReturn
from bcf.returns.q_workbook import signoff_rows
from bcf.transforms.workbook import Header, LayoutCell, Ref, SheetLayout, with_unit

ALLOWED_BLANK = {"df.discharges.avg_delay_days"}


def _label_rows(specs: list) -> list[list[LayoutCell]]:  # type: ignore[type-arg]
    return [[with_unit(s.label, s.kind), Ref(s.id)] for s in specs]


def layouts(ret: FortnightlyReturn, signoff: dict[str, str] | None = None) -> list[SheetLayout]:
    p = ret.period
    spend_header: list[LayoutCell] = [Header("Scheme"), Header("Scheme name"),
                                      *[Header(with_unit(f.column, f.kind)) for f in SCHEMES]]
    scheme_rows: list[list[LayoutCell]] = [
        [s.scheme_id, s.name] + [Ref(f.id.format(scheme=s.slug)) for f in SCHEMES] for s in ret.schemes
    ]
    totals: list[LayoutCell] = [Header("Total"), None, *[Ref(f.id) for f in TOTALS]]
    return [
        SheetLayout("Cover", "Adult Social Care Discharge Fund: fortnightly report",
                    [[Header("Item"), Header("Value")], *_label_rows(COVER), *signoff_rows(signoff)],
                    widths=(58, 40),
                    notes=[f"Period: the 14 days {p.period_start:%d/%m/%Y} to {p.period_end:%d/%m/%Y} inclusive. "
                           f"'To date' runs from {p.fy_start:%d/%m/%Y}.",
                           "Every figure cell has a defined name equal to its figure id; the Lineage sheet says "
                           "where each figure came from, and `bcf trace` lists its source rows."]),
        SheetLayout("Discharges", "Hospital discharges in the fortnight (acute, excluding deaths)",
                    [[Header("Measure"), Header("Value")], *_label_rows(DISCHARGES)]),
        SheetLayout("Packages", "Reablement and intermediate care packages",
                    [[Header("Measure"), Header("Value")], *_label_rows(PACKAGES)]),
        SheetLayout("Spend and Activity", "Discharge Fund spend and activity by scheme (DF money only)",
                    [spend_header, *scheme_rows, totals], widths=(12, 44, 18, 18, 18, 18, 18, 16, 16, 16),
                    freeze="C4"),
        SheetLayout("Income and Checks", "Discharge Fund income, balance and checks",
                    [[Header("Item"), Header("Value")], *_label_rows(INCOME)],
                    notes=["A 'No' in a check means planned or actual spend exceeds the fund's income: explain it "
                           "in the submission or correct the plan."]),
    ]
