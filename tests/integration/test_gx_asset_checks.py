"""The great-expectations suite as Dagster asset checks of raw_workflow_events (orchestration/defs/checks.py).

Landing quarantines every row the suite would reject, so through the landing path the checks can only
pass (tests/integration/test_dagster_definitions.py materializes the whole graph and asserts every
check, these included, passed). These tests play "another writer": rows inserted straight into
raw.workflow_events under a load_id, then the same function the landing asset calls.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.checks import gx_check_results, gx_check_specs
from orchestration.defs.landing import RAW_WORKFLOW_EVENTS_KEY, raw_workflow_events
from orchestration.lib.batch_history import batch_history_checks, compare_batch_to_history
from orchestration.lib.expectations import raw_events_checks
from orchestration.lib.warehouse import connect, ensure_raw_schema

LOADED_AT = datetime(2026, 11, 21, 11, 0)


@pytest.fixture
def con(tmp_path: Path):
    c = connect(tmp_path / "warehouse.duckdb")
    ensure_raw_schema(c)
    yield c
    c.close()


def _insert(con, load_id: str, rows: list[dict]) -> None:
    for i, overrides in enumerate(rows):
        r = {
            "event_id": f"{load_id}-e{i}", "workflow_id": "fulfillment_v2", "run_id": "r1",
            "event_type": "stage_completed", "event_ts": datetime(2026, 11, 20, 10, 0), "region": "us-east-1",
            "log_format": "telemetry", "load_id": load_id, "source_file": f"{load_id}.jsonl",
            "source_row_number": i + 1, "loaded_at": LOADED_AT,
        }
        r.update(overrides)
        cols = list(r)
        con.execute(f"insert into raw.workflow_events ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
                    [r[c] for c in cols])


def _by_name(results: list[dg.AssetCheckResult]) -> dict[str, dg.AssetCheckResult]:
    return {r.check_name: r for r in results}


def test_every_suite_check_is_declared_on_the_landing_asset_and_error_ones_block():
    specs = {s.name: s for s in raw_workflow_events.check_specs}
    assert set(specs) == {f"gx_{c.name}" for c in raw_events_checks() + batch_history_checks()}
    for check in raw_events_checks() + batch_history_checks():
        assert specs[f"gx_{check.name}"].blocking == (check.severity == "error")
    assert {s.name for s in gx_check_specs(RAW_WORKFLOW_EVENTS_KEY)} == set(specs)


def test_clean_batches_pass_every_check(con):
    _insert(con, "L1", [{}, {"event_type": "run_started"}])
    _insert(con, "L2", [{"duration_ms": 5, "cost_cents": 1.5, "confidence": 0.9}])
    results = _by_name(gx_check_results(con, RAW_WORKFLOW_EVENTS_KEY, [("L1", LOADED_AT), ("L2", LOADED_AT)]))
    assert len(results) == len(raw_events_checks()) + len(batch_history_checks())
    assert all(r.passed for r in results.values())
    assert {r.metadata["rows_validated"].value for r in results.values()} == {3}


def test_a_bad_batch_fails_the_right_checks_with_their_severity(con):
    _insert(con, "good", [{}])
    _insert(con, "bad", [
        {"event_type": "run_teleported"},                      # not in the contract: error
        {"event_ts": datetime(2026, 11, 25, 12, 0)},           # > loaded_at + 24 h: error
        {"confidence": 1.7},                                   # out of 0..1: warn
        {"event_type": "exception_raised"},                    # no exception_id: error
    ])
    results = _by_name(gx_check_results(con, RAW_WORKFLOW_EVENTS_KEY, [("good", LOADED_AT), ("bad", LOADED_AT)]))
    failed = {name: r for name, r in results.items() if not r.passed}
    assert set(failed) == {"gx_event_type_in_contract", "gx_no_future_event_ts", "gx_confidence_in_range",
                           "gx_exception_events_have_exception_id"}
    assert failed["gx_confidence_in_range"].severity == dg.AssetCheckSeverity.WARN
    assert failed["gx_event_type_in_contract"].severity == dg.AssetCheckSeverity.ERROR
    assert failed["gx_event_type_in_contract"].metadata["unexpected_rows"].value == 1


def test_no_new_batch_validates_nothing_and_passes(con):
    _insert(con, "old", [{"event_type": "run_teleported"}])  # already in the table: validated when it landed
    results = gx_check_results(con, RAW_WORKFLOW_EVENTS_KEY, [])
    assert all(r.passed for r in results)
    assert {r.metadata["rows_validated"].value for r in results} == {0}


# --- each batch against its history (orchestration/checks/batch_history_suite.json) ----------------


def _history(con, batches: int = 4, rows: int = 20) -> None:
    """``batches`` earlier batches of ``rows`` events each: half stage_completed with a cost, half run_started."""
    for k in range(batches):
        _insert_at(con, f"H{k}", rows, LOADED_AT - timedelta(days=batches - k))


def _insert_at(con, load_id: str, n: int, loaded_at: datetime, **overrides) -> None:
    _insert(con, load_id, [{"loaded_at": loaded_at, "event_type": ("stage_completed", "run_started")[i % 2],
                            "cost_cents": 1.5, **overrides} for i in range(n)])


@pytest.mark.parametrize(
    ("rows", "overrides", "failing"),
    [
        (22, {}, set()),  # like its history
        (3, {}, {"batch_volume_vs_history"}),  # a seventh of the usual volume
        (60, {}, {"batch_volume_vs_history"}),  # three times the usual volume
        (20, {"cost_cents": None}, {"batch_null_share_vs_history"}),  # an export that stopped filling cost_cents
        (20, {"event_type": "run_started"}, {"batch_event_mix_vs_history"}),  # only run_started
    ],
)
def test_a_batch_unlike_its_history_fails_that_check_and_only_it(con, rows, overrides, failing):
    """Rows that must pass and rows that must fail: each drift trips its own check, as a warning."""
    _history(con)
    _insert_at(con, "new", rows, LOADED_AT, **overrides)
    comparison = compare_batch_to_history(con, "new")
    assert comparison.compared and len(comparison.history_load_ids) == 4
    assert {c.name for c in comparison.result.checks if not c.success} == failing
    results = _by_name(gx_check_results(con, RAW_WORKFLOW_EVENTS_KEY, [("new", LOADED_AT)]))
    assert {n for n, r in results.items() if not r.passed} == {f"gx_{name}" for name in failing}
    assert all(results[f"gx_{name}"].severity == dg.AssetCheckSeverity.WARN for name in failing)
    assert results["gx_batch_volume_vs_history"].metadata["batches_compared"].value == 1


def test_history_is_the_earlier_batches_of_the_same_log_format_only(con):
    _history(con, batches=2)
    _insert_at(con, "minimal", 200, LOADED_AT - timedelta(hours=1), log_format="minimal")
    _insert_at(con, "later", 200, LOADED_AT + timedelta(days=1))
    _insert_at(con, "new", 3, LOADED_AT)
    comparison = compare_batch_to_history(con, "new")
    assert comparison.history_load_ids == ("H1", "H0") and not comparison.compared  # 2 < min_batches 3
    results = gx_check_results(con, RAW_WORKFLOW_EVENTS_KEY, [("new", LOADED_AT)])
    assert all(r.passed for r in results)
