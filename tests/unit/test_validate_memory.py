"""GX's execution engine keeps every metric it resolved and every batch's frame for as long as it lives (the whole
run); RowValidator.check drops them once a batch is validated, so a source with many failing rows does not hold
them all to the end. Findings are the same whether a frame is checked first or again."""

from __future__ import annotations

from typing import Any

import pytest

from bcf.core.settings import contracts
from bcf.transforms import validate
from bcf.transforms.validate import RowValidator
from tests.unit.test_validate_two_pass import PARAMS, _discharges, _spend


def _engines_of_checks(monkeypatch: pytest.MonkeyPatch, forget: bool) -> list[Any]:
    seen: list[Any] = []
    real = validate._forget

    def spy(batch: Any) -> None:
        seen.append(batch.data.execution_engine)
        if forget:
            real(batch)
    monkeypatch.setattr(validate, "_forget", spy)
    return seen


@pytest.mark.parametrize("small_table", [20_000, 0])  # rules sharing two batches; a batch per rule
def test_a_checked_batch_leaves_nothing_in_gx_caches(monkeypatch: pytest.MonkeyPatch, small_table: int) -> None:
    monkeypatch.setattr(validate, "SMALL_TABLE", small_table)
    v = RowValidator()
    seen = _engines_of_checks(monkeypatch, forget=True)
    first = v.check(_discharges(9), contracts()["discharges"], "f.csv", PARAMS)
    first += v.check(_spend(8, True), contracts()["spend"], "f.csv", PARAMS)
    assert first and seen
    for engine in seen:
        assert not engine._metric_cache and not engine.batch_manager.batch_data_cache
        assert not engine.batch_manager.batch_cache
    again = v.check(_discharges(9), contracts()["discharges"], "f.csv", PARAMS)
    again += v.check(_spend(8, True), contracts()["spend"], "f.csv", PARAMS)
    assert again == first


def test_without_forgetting_gx_would_keep_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test above guards against (and that GX's private names it clears are the ones that hold them)."""
    v = RowValidator()
    seen = _engines_of_checks(monkeypatch, forget=False)
    v.check(_spend(8, True), contracts()["spend"], "f.csv", PARAMS)
    assert any(engine._metric_cache for engine in seen)
    assert any(engine.batch_manager.batch_data_cache for engine in seen)
