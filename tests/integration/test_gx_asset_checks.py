"""The great-expectations suite as Dagster asset checks of raw_workflow_events (orchestration/defs/checks.py).

Landing quarantines every row the suite would reject, so through the landing path the checks can only
pass (tests/integration/test_dagster_definitions.py materializes the whole graph and asserts every
check, these included, passed). These tests play "another writer": rows inserted straight into
raw.workflow_events under a load_id, then the same function the landing asset calls.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.checks import gx_check_results, gx_check_specs
from orchestration.defs.landing import RAW_WORKFLOW_EVENTS_KEY, raw_workflow_events
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
    assert set(specs) == {f"gx_{c.name}" for c in raw_events_checks()}
    for check in raw_events_checks():
        assert specs[f"gx_{check.name}"].blocking == (check.severity == "error")
    assert {s.name for s in gx_check_specs(RAW_WORKFLOW_EVENTS_KEY)} == set(specs)


def test_clean_batches_pass_every_check(con):
    _insert(con, "L1", [{}, {"event_type": "run_started"}])
    _insert(con, "L2", [{"duration_ms": 5, "cost_cents": 1.5, "confidence": 0.9}])
    results = _by_name(gx_check_results(con, RAW_WORKFLOW_EVENTS_KEY, [("L1", LOADED_AT), ("L2", LOADED_AT)]))
    assert len(results) == len(raw_events_checks())
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
