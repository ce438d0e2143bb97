"""Run the GX suites in expectations/ over parsed rows and turn every failing row into a finding.

The suites are the rule source: each expectation's meta carries its severity, a short rule id and the words an
officer reads. Code sets are suite parameters filled from config/codes.toml, so each list lives in one place.
GX imports slowly (~4 s), so it is imported when a validator is first made, never at module import.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from functools import cache
from typing import Any

import pandas as pd

from bcf.settings import TableContract, codes, expectations_dir
from transforms.findings import Finding
from transforms.read import SOURCE_ROW

RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [SOURCE_ROW]}


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


class RowValidator:
    """One GX ephemeral context per run; validates one parsed table at a time."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        # GX narrates its ephemeral context at INFO; our own findings are what an officer needs to read
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

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
            expectations = [self._config(**e).to_domain_obj() for e in doc["expectations"]]
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
        batch = self._batches[contract.table].get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=RESULT_FORMAT,
                                expectation_parameters={**code_parameters(), **parameters})
        findings: list[Finding] = []
        for item in result.results:
            config = item.expectation_config
            meta = config.meta or {}
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"GX expectation {config.type} on {contract.table} failed to run: "
                                   f"{item.exception_info.get('exception_message')}")
            if item.success:
                continue
            findings.extend(_findings(file_name, config.kwargs, meta, item.result.get("unexpected_index_list") or []))
        return findings


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
