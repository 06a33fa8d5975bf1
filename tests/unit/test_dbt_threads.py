"""The thread choice of full builds (orchestration/lib/dbt.py): one dbt thread for a full build over a
large history, the profile's threads otherwise. On a real DuckDB file."""
from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.dbt import (
    SERIAL_FULL_BUILD_EVENTS_ENV,
    DbtFailed,
    duckdb_full_build_thread_args,
    full_build_thread_args,
)


def test_threshold_default_and_override(monkeypatch):
    monkeypatch.delenv(SERIAL_FULL_BUILD_EVENTS_ENV, raising=False)
    assert full_build_thread_args(2_000_000) == []
    assert full_build_thread_args(2_000_001) == ["--threads", "1"]
    monkeypatch.setenv(SERIAL_FULL_BUILD_EVENTS_ENV, "10")
    assert full_build_thread_args(11) == ["--threads", "1"]
    assert full_build_thread_args(10) == []
    monkeypatch.setenv(SERIAL_FULL_BUILD_EVENTS_ENV, "lots")
    with pytest.raises(DbtFailed, match=SERIAL_FULL_BUILD_EVENTS_ENV):
        full_build_thread_args(1)


@pytest.fixture()
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


def test_first_and_full_builds_over_a_large_history_run_on_one_thread(con, monkeypatch):
    monkeypatch.setenv(SERIAL_FULL_BUILD_EVENTS_ENV, "3")
    # nothing landed yet: a first build, but no history
    assert duckdb_full_build_thread_args(con, full_refresh=False) == []
    con.execute("create schema raw; create table raw.workflow_events as select range as id from range(4)")
    # a first build (no mart yet) over 4 events > 3
    assert duckdb_full_build_thread_args(con, full_refresh=False) == ["--threads", "1"]
    con.execute("create schema marts; create table marts.fct_workflow_runs (run_id varchar)")
    # an incremental build keeps the profile's threads; a full refresh does not
    assert duckdb_full_build_thread_args(con, full_refresh=False) == []
    assert duckdb_full_build_thread_args(con, full_refresh=True) == ["--threads", "1"]
    monkeypatch.setenv(SERIAL_FULL_BUILD_EVENTS_ENV, "4")
    assert duckdb_full_build_thread_args(con, full_refresh=True) == []
