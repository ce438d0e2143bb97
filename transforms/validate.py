"""Run the GX suites in expectations/ over parsed rows and turn every failing row into a finding.

The suites are the rule source: each expectation's meta carries its severity, a short rule id and the words an
officer reads. Code sets are suite parameters filled from config/codes.toml, so each list lives in one place.
GX imports slowly (~4 s), so it is imported when a validator is first made, never at module import.

At the speed of the data: each suite runs first with BOOLEAN_ONLY results over only the columns its rules read
(clean files, the common case, stop there); only the expectations that failed run again with COMPLETE results and
our row key, to name every failing row. Same rules, same findings, a fraction of the work.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import re
from functools import cache
from typing import Any

import pandas as pd

from core.settings import TableContract, codes, expectations_dir
from transforms.findings import Finding
from transforms.read import SOURCE_ROW

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [SOURCE_ROW]}
CHEAP_FORMAT = {"result_format": "BOOLEAN_ONLY"}
RULE_INDEX = "bcf_rule_index"
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
    """Every name a suite's rules may read: their columns, and any name in a row condition (matched against the
    frame's columns by the caller, so a word of the condition that is not a column costs nothing)."""
    names: set[str] = set()
    for e in suite_document(table)["expectations"]:
        kwargs = e["kwargs"]
        names.update(str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs)
        names.update(kwargs.get("column_list", []))
        names.update(_NAME.findall(str(kwargs.get("row_condition") or "")))
    return names


class RowValidator:
    """One GX ephemeral context per run; validates one parsed table at a time."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        # GX narrates its ephemeral context at INFO; our own findings are what an officer needs to read
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        import great_expectations as gx
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
        self._suites: dict[str, Any] = {}
        self._batches: dict[str, Any] = {}

    def _suite(self, table: str) -> Any:
        if table not in self._suites:
            doc = suite_document(table)
            # a position per rule in its meta, so a second pass over the failing rules maps back to the first
            expectations = [self._config(**{**e, "meta": {**e.get("meta", {}), RULE_INDEX: i}}).to_domain_obj()
                            for i, e in enumerate(doc["expectations"])]
            self._suites[table] = self._gx.ExpectationSuite(name=doc["name"], expectations=expectations)
            asset = self._source.add_dataframe_asset(table)
            self._batches[table] = asset.add_batch_definition_whole_dataframe(f"{table}_whole")
        return self._suites[table]

    def check(self, frame: pd.DataFrame, contract: TableContract, file_name: str,
              parameters: dict[str, Any]) -> list[Finding]:
        if frame.empty:
            return []
        suite = self._suite(contract.table)
        frame = _prepare(frame, contract.table, parameters)
        needed = suite_columns(contract.table) | {SOURCE_ROW}
        frame = frame[[c for c in frame.columns if c in needed]]
        batch = self._batches[contract.table].get_batch(batch_parameters={"dataframe": frame})
        expectation_parameters = {**code_parameters(), **parameters}
        first = batch.validate(suite, result_format=CHEAP_FORMAT, expectation_parameters=expectation_parameters)
        failed = [_index(r) for r in _checked(first.results, contract.table) if not r.success]
        if not failed:
            return []
        # the failing rules again, now naming every failing row by our row key
        again = self._gx.ExpectationSuite(name=f"{suite.name}.failed", expectations=[
            copy.copy(e) for e in suite.expectations if e.meta[RULE_INDEX] in failed])
        second = batch.validate(again, result_format=RESULT_FORMAT, expectation_parameters=expectation_parameters)
        by_id = {_index(r): r for r in _checked(second.results, contract.table)}
        findings: list[Finding] = []
        for expectation_id in failed:  # GX's own result order for the whole suite, as a one-pass run gave it
            item = by_id[expectation_id]
            if item.success:
                continue
            config = item.expectation_config
            findings.extend(_findings(file_name, config.kwargs, config.meta or {},
                                      item.result.get("unexpected_index_list") or []))
        return findings


def _index(result: Any) -> int:
    return int(result.expectation_config.meta[RULE_INDEX])


def _checked(results: list[Any], table: str) -> list[Any]:
    """Results as they are, once every expectation is known to have run (a rule that cannot run is a fault)."""
    for item in results:
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX expectation {item.expectation_config.type} on {table} failed to run: "
                               f"{item.exception_info.get('exception_message')}")
    return results


def _prepare(frame: pd.DataFrame, table: str, parameters: dict[str, Any]) -> pd.DataFrame:
    """Helper columns some rules need: the scheme's output unit from the plan, for the spend unit rule."""
    if table == "spend":
        units = parameters.get("plan_scheme_units", {})
        frame = frame.assign(scheme_output_unit=frame["scheme_id"].map(units).astype("object"))
    return frame


def _column_of(kwargs: dict[str, Any]) -> str:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return str(kwargs["column_A"])
    return "+".join(kwargs.get("column_list", []))


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:80]


def _findings(file_name: str, kwargs: dict[str, Any], meta: dict[str, Any],
              unexpected: list[dict[str, Any]]) -> list[Finding]:
    column = _column_of(kwargs)
    names = column.split("+")
    out = []
    for hit in unexpected:
        value = "/".join(_text(hit.get(n)) for n in names)
        out.append(Finding(str(meta.get("severity", "error")), file_name, int(hit[SOURCE_ROW]), column, value,
                           str(meta.get("rule", "rule")), str(meta.get("message", "Value breaks a rule."))))
    return sorted(out, key=lambda f: f.row or 0)
