"""Run the GX suites in expectations/ over parsed rows and turn every failing row into a finding.

The suites are the rule source: each expectation's meta carries its severity, a short rule id and the words an
officer reads. Code sets are suite parameters filled from config/codes.toml, so each list lives in one place.
GX imports slowly (~2 s, more on a slower machine), so it is imported when a validator first validates a table,
never at module import; pandas and numpy alike (~0.3 s), so that a run whose files were all received before (the
next fortnight's) makes its validator without importing them.

At the speed of the data: every expectation runs on a batch of only the columns it reads, first with BOOLEAN_ONLY
results (clean files, the common case, stop there); one that failed runs again with COMPLETE results, to name every
failing row. Same rules, same rows, same findings, a fraction of the work (docs/benchmarks.md).
"""

from __future__ import annotations

import atexit
import copy
import datetime as dt
import gc
import json
import logging
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from bcf.core.settings import TableContract, codes, expectations_dir
from bcf.transforms.findings import Finding
from bcf.transforms.gx_import import import_gx

if TYPE_CHECKING:
    import pandas as pd

# GX names failing rows by the frame's index (positions here): naming them by a column looks its value up row by row
RESULT_FORMAT = {"result_format": "COMPLETE"}
CHEAP_FORMAT = {"result_format": "BOOLEAN_ONLY"}
RULE_INDEX = "bcf_rule_index"
Scope = Literal["all", "rows", "file"]  # which rules a check runs (RowValidator.check)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def code_parameters() -> dict[str, list[str]]:
    c = codes()
    enums = c["enums"]
    return {
        "admission_method": [m for group in c["admission_method"].values() for m in group],
        "discharge_destination": c["discharge_destination"]["codes"],
        "capacity_service": enums["capacity_service"],
        **{name: enums[name] for name in (
            "setting", "discharge_pathway", "referral_source", "service", "outcome", "status_91d", "funding_source",
            "scheme_type", "age_band", "metric", "condition", "confirmed")},
    }


@cache
def suite_document(table: str) -> dict[str, Any]:
    with open(expectations_dir() / f"{table}.json", encoding="utf-8") as fh:
        return dict(json.load(fh))


def suite_columns(table: str) -> set[str]:
    """Every name a suite's rules may read."""
    return set().union(*(_names_read(e["kwargs"]) for e in suite_document(table)["expectations"]))


# Below this many rows GX's fixed cost per batch (~8 ms) outweighs copying columns: a table's rules share two batches
SMALL_TABLE = 20_000


@dataclass(frozen=True)
class _Rule:
    """One expectation of a suite, with what its batch must hold."""

    index: int  # its position in the suite
    expectation: Any
    columns: tuple[str, ...]
    ordered: bool  # compares values by order (between, a >= b): given numbers, GX compares whole columns at once
    whole_file: bool  # reads every row of a file at once (a key's uniqueness), not each row on its own


class RowValidator:
    """One GX ephemeral context per run; validates one parsed table at a time."""

    def __init__(self) -> None:
        self._started = False
        self._rules: dict[str, list[_Rule]] = {}
        self._batches: dict[str, Any] = {}
        self._suites: dict[tuple[str, tuple[int, ...]], Any] = {}

    def _start(self) -> None:
        """GX is imported (~2 s) and its context made when the first table is validated, not before: a run whose
        files were all received already (the next fortnight) validates nothing and never pays for it."""
        self._started = True
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        # GX narrates its ephemeral context at INFO; our own findings are what an officer needs to read
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        gx = import_gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        # GX fingerprints a batch by hashing the whole frame, on get_batch and again inside validate (~3 s each on
        # 1.5M rows); the fingerprint is a batch marker nothing reads, so frames are never "small enough" to hash
        pandas_execution_engine.HASH_THRESHOLD = 0
        self._gx = gx
        self._config = ExpectationConfiguration
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self._source = self._context.data_sources.add_pandas("bcf_extracts")
        _freeze_imports()
        _configuration_once_per_call()
        _plain_values_as_they_are()

    def _suite(self, table: str) -> list[_Rule]:
        """The suite's rules in the order GX reports a whole suite's results (findings keep that order)."""
        if not self._started:
            self._start()
        if table not in self._rules:
            doc = suite_document(table)
            rules = []
            for i, e in enumerate(doc["expectations"]):
                expectation = self._config(**{**e, "meta": {**e.get("meta", {}), RULE_INDEX: i}}).to_domain_obj()
                rules.append(_Rule(i, expectation, tuple(sorted(_names_read(e["kwargs"]))), e["type"] in _ORDERED,
                                   e["type"] in _WHOLE_FILE))
            self._rules[table] = _gx_result_order(rules, doc["expectations"])
            asset = self._source.add_dataframe_asset(table)
            self._batches[table] = asset.add_batch_definition_whole_dataframe(f"{table}_whole")
        return self._rules[table]

    def _suite_of(self, table: str, rules: list[_Rule]) -> Any:
        key = (table, tuple(r.index for r in rules))
        if key not in self._suites:
            self._suites[key] = self._gx.ExpectationSuite(
                name=f"{table}.{'.'.join(map(str, key[1]))}", expectations=[copy.copy(r.expectation) for r in rules])
        return self._suites[key]

    def check(self, frame: pd.DataFrame, contract: TableContract, file_name: str,
              parameters: dict[str, Any], scope: Scope = "all") -> list[Finding]:
        """On a large table every rule runs on a batch of only the columns it reads: GX copies a rule's whole batch
        as it drops nulls or applies a condition, so one wide batch cost (rules x columns) column copies. A batch's
        rules run first with BOOLEAN_ONLY results (clean files, the common case, stop there); the failing ones run
        again with COMPLETE results, to name every failing row by position, hence by its source row.

        scope: "all" rules; or, for a file checked in parts, "rows" (the rules that read each row on its own, run on
        each part) and "file" (the rules that read the whole file, run once on its key columns; whole_file_columns).
        """
        if frame.empty:
            return []
        import pandas as pd  # imported already: the frame is one

        rules = [r for r in self._suite(contract.table) if scope == "all" or r.whole_file == (scope == "file")]
        frame = frame.reset_index(drop=True)
        dates = {c.name for c in contract.columns if c.type == "date"}
        as_given = {**code_parameters(), **parameters}
        as_numbers = {k: _day_number(v) if isinstance(v, dt.date) else v for k, v in as_given.items()}
        numbers: dict[str, pd.Series] = {}  # columns as numbers for the ordered rules, made once per check
        if len(frame) >= SMALL_TABLE:
            groups = [[r] for r in rules]
        else:
            groups = [g for g in ([r for r in rules if not r.ordered], [r for r in rules if r.ordered]) if g]
        by_rule: dict[int, list[Finding]] = {}
        for group in groups:
            columns = sorted({c for r in group for c in r.columns if c in frame.columns})
            if group[0].ordered:
                for c in columns:
                    if c not in numbers:
                        numbers[c] = _as_number(frame[c], c in dates)
                narrow = pd.DataFrame({c: numbers[c] for c in columns}, index=frame.index)
            else:
                narrow = frame[columns]
            batch = self._batches[contract.table].get_batch(batch_parameters={"dataframe": narrow})
            expectation_parameters = as_numbers if group[0].ordered else as_given
            try:
                first = batch.validate(self._suite_of(contract.table, group), result_format=CHEAP_FORMAT,
                                       expectation_parameters=expectation_parameters)
                failed = {_index(r) for r in _checked(first.results, contract.table) if not r.success}
                if not failed:
                    continue
                # the failing rules again, now naming every failing row
                again = self._suite_of(contract.table, [r for r in group if r.index in failed])
                second = batch.validate(again, result_format=RESULT_FORMAT,
                                        expectation_parameters=expectation_parameters)
                for item in _checked(second.results, contract.table):
                    if not item.success:
                        config = item.expectation_config
                        by_rule[_index(item)] = _findings(file_name, config.kwargs, config.meta or {}, frame,
                                                          item.result.get("unexpected_index_list") or [])
            finally:
                _forget(batch)
        return [f for r in rules for f in by_rule.get(r.index, [])]


def _forget(batch: Any) -> None:
    """Drop what GX's execution engine kept of a batch once it is validated. The engine caches every metric it
    resolved (row conditions, failing values and their positions) and every batch's frame, keyed by batch id, for
    as long as the engine lives: the whole run. A batch is validated once (each get_batch is a new batch id), so
    nothing cached is ever read again; a source with a fifth of its rows rejected held ~0.4 GB of it per 340,000-row
    file. GX 1.x has no public call for this, hence its private attributes (checked by tests/unit/
    test_validate_memory.py)."""
    engine = batch.data.execution_engine
    engine._metric_cache.clear()
    engine.batch_manager.batch_data_cache.clear()
    engine.batch_manager.reset_batch_cache()


_frozen = False


def _freeze_imports() -> None:
    """Once a process has imported GX, what it holds lives as long as the process: out of every full collection
    from now on (a 1.86M source's run spent 0.65 s in the collector, 0.5 s after this). Once per process, so a
    served deployment's later runs freeze nothing of their own; back in at exit, so the interpreter's teardown
    still frees it (else DuckDB's bindings report their objects as leaked)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
        atexit.register(gc.unfreeze)


# GX's methods that read an expectation's configuration once per key they look up; the property makes a new one
# each time (a pydantic dict of the expectation, copied), so these reads were about half of validating a small table
_READS_CONFIGURATION = ("_get_runtime_kwargs", "_get_success_kwargs", "_get_domain_kwargs", "_get_success_kwarg",
                        "_get_result_format")
_configurations: dict[int, Any] = {}  # id(expectation) -> its configuration, while one of those methods runs


def _configuration_once_per_call() -> None:
    """Within one call of the methods above (and what they call), an expectation's configuration is made once and
    read from there, not made again per key: they only read it, and nothing changes the expectation meanwhile, so
    every value read is the one GX would read. The methods themselves are GX's own, unchanged. Once per process."""
    from great_expectations.expectations.expectation import Expectation

    made = Expectation.configuration.fget  # type: ignore[attr-defined]
    if getattr(made, "bcf_once", False):
        return

    def configuration(self: Any) -> Any:
        held = _configurations.get(id(self))
        return held if held is not None else made(self)

    def once(method: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            key = id(self)
            if key in _configurations:  # an outer call holds it already
                return method(self, *args, **kwargs)
            _configurations[key] = made(self)
            try:
                return method(self, *args, **kwargs)
            finally:
                del _configurations[key]
        return call

    configuration.bcf_once = True  # type: ignore[attr-defined]
    Expectation.configuration = property(configuration)  # type: ignore[method-assign, assignment]
    for name in _READS_CONFIGURATION:
        setattr(Expectation, name, once(getattr(Expectation, name)))


def _plain_values_as_they_are() -> None:
    """GX names each metric by an id made from its kwargs (core.id_dict.IDDict.to_id), turned into JSON values by
    util.convert_to_json_serializable first: a chain of ~20 type checks, numpy's among them, for every value, a
    code list's every code too. A string, whole number or truth value comes out of it as it went in, and None as
    None, after all the checks; here those come back at once. Anything else goes through GX's function as it is.
    Once per process."""
    from great_expectations import util
    from great_expectations.core import id_dict

    convert = util.convert_to_json_serializable
    if getattr(convert, "bcf_plain", False):
        return

    def plain_first(data: Any) -> Any:
        if data is None or type(data) in _PLAIN:
            return data
        return convert(data)

    plain_first.bcf_plain = True  # type: ignore[attr-defined]
    plain_first.gx_own = convert  # type: ignore[attr-defined]  # for tests/unit/test_validate_import.py
    util.convert_to_json_serializable = plain_first  # its own recursion reads this name too
    id_dict.convert_to_json_serializable = plain_first  # type: ignore[attr-defined]


_PLAIN = frozenset({str, int, bool})


def whole_file_columns(table: str) -> set[str]:
    """The columns the rules that read a whole file read (see RowValidator.check's scope)."""
    return set().union(*(_names_read(e["kwargs"]) for e in suite_document(table)["expectations"]
                         if e["type"] in _WHOLE_FILE))


def _index(result: Any) -> int:
    return int(result.expectation_config.meta[RULE_INDEX])


_ORDERED = {"expect_column_values_to_be_between", "expect_column_pair_values_a_to_be_greater_than_b"}
_WHOLE_FILE = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def _names_read(kwargs: dict[str, Any]) -> set[str]:
    """The names a rule may read: its columns, and any name in its row condition (matched against the frame's
    columns by the caller, so a word of the condition that is not a column costs nothing)."""
    names = {str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs}
    names.update(kwargs.get("column_list", []))
    names.update(_NAME.findall(str(kwargs.get("row_condition") or "")))
    return names


def _gx_result_order(rules: list[_Rule], expectations: list[dict[str, Any]]) -> list[_Rule]:
    """GX reports a suite's results grouped by their `column` (rules without one, such as pairs and compound keys,
    form one group), groups in order of first appearance; validating rule by rule, we keep that order."""
    groups: dict[str, list[_Rule]] = {}
    for rule, e in zip(rules, expectations, strict=True):
        column = e["kwargs"].get("column")
        groups.setdefault(column if isinstance(column, str) else "", []).append(rule)
    return [rule for group in groups.values() for rule in group]


def _day_number(day: dt.date) -> int:
    return day.toordinal()


_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()


def _as_number(values: pd.Series, is_date: bool) -> pd.Series:
    """A column for an ordered rule, as float64 numbers with NaN for a blank: dates as day numbers (GX compares date
    objects one by one in Python, but numbers a whole column at once), nullable integers as floats (exact to 2**53).
    The order of the values, and which are blank, is exactly as given; findings quote the frame's own values."""
    import numpy as np
    import pandas as pd

    if is_date and values.dtype.kind == "M":  # datetime64
        days = values.to_numpy().astype("datetime64[D]")
        number = days.astype("int64").astype("float64") + _ORDINAL_1970
        number[np.isnat(days)] = np.nan
        return pd.Series(number, index=values.index)
    if is_date:  # date objects, None for a blank (anything else fails loudly); an extract holds few distinct days
        codes, days = pd.factorize(values)
        number = np.array([d.toordinal() for d in days] + [np.nan], dtype="float64")[codes]  # code -1 (blank): NaN
        return pd.Series(number, index=values.index)
    if pd.api.types.is_integer_dtype(values.dtype) and not isinstance(values.dtype, np.dtype):
        return values.astype("float64")
    return values


def _checked(results: list[Any], table: str) -> list[Any]:
    """Results as they are, once every expectation is known to have run (a rule that cannot run is a fault)."""
    for item in results:
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX expectation {item.expectation_config.type} on {table} failed to run: "
                               f"{item.exception_info.get('exception_message')}")
    return results


def _column_of(kwargs: dict[str, Any]) -> str:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return str(kwargs["column_A"])
    return "+".join(kwargs.get("column_list", []))


def _text(value: object) -> str:
    import pandas as pd

    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:80]


def _findings(file_name: str, kwargs: dict[str, Any], meta: dict[str, Any], frame: pd.DataFrame,
              positions: list[int]) -> list[Finding]:
    """One finding per failing row GX named (by position), with its source row and its values as the frame holds
    them."""
    import numpy as np

    from bcf.transforms.read import SOURCE_ROW

    column = _column_of(kwargs)
    names = column.split("+")
    at = np.asarray(positions, dtype="int64")
    rows = frame[SOURCE_ROW].to_numpy()[at]
    # only the failing rows become Python objects, not the whole column (half a million values a part)
    values = [frame[n].iloc[at].to_numpy(dtype=object) for n in names]
    out = []
    for i, row in enumerate(rows):
        value = "/".join(_text(v[i]) for v in values)
        out.append(Finding(str(meta.get("severity", "error")), file_name, int(row), column, value,
                           str(meta.get("rule", "rule")), str(meta.get("message", "Value breaks a rule."))))
    return sorted(out, key=lambda f: f.row or 0)
