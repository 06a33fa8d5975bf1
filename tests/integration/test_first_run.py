"""A new user's first run: settings that cannot work are one `error:` line naming the setting, and a
build before (or without) any loaded event succeeds with empty marts and a note."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

CLI = str(Path(sys.executable).parent / "command-center")

#: every subcommand, with arguments that would otherwise be valid
SUBCOMMAND_ARGV = [
    ["generate", "--out", "events.jsonl", "--days", "1", "--runs-per-day", "1"],
    ["ingest", "events.jsonl"],
    ["build"],
    ["status"],
    ["register"],
    ["parse"],
    ["demo", "--days", "1"],
]


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DAGSTER_HOME": str(cwd / "dagster_home"), "COMMAND_CENTER_LANDING_DIR": str(cwd / "landing"),
            **TELEMETRY_OFF, **env}
    return subprocess.run([CLI, *argv], cwd=cwd, env=full, capture_output=True, text=True, timeout=120, check=False)


def _one_error_line(proc: subprocess.CompletedProcess, setting: str) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and setting in lines[0], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr and "unexpected failure" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize("argv", SUBCOMMAND_ARGV, ids=lambda a: a[0])
def test_a_warehouse_folder_that_cannot_be_created_is_one_error_line(argv, tmp_path):
    proc = _run(argv, tmp_path, COMMAND_CENTER_DUCKDB="/proc/nope/x.duckdb")
    assert "cannot create its folder /proc/nope" in _one_error_line(proc, "COMMAND_CENTER_DUCKDB")


@pytest.mark.parametrize("command", ["status", "build", "ingest"])
def test_a_warehouse_path_that_is_a_directory_names_the_setting(command, tmp_path):
    (tmp_path / "events.jsonl").write_text("")
    argv = [command, "events.jsonl"] if command == "ingest" else [command]
    proc = _run(argv, tmp_path, COMMAND_CENTER_DUCKDB=str(tmp_path))
    assert "is a directory" in _one_error_line(proc, "COMMAND_CENTER_DUCKDB")


@pytest.mark.parametrize("command", ["status", "build"])
def test_a_file_that_is_not_duckdb_names_the_setting(command, tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n" * 200)
    proc = _run([command], tmp_path, COMMAND_CENTER_DUCKDB=str(bogus))
    assert "is not a DuckDB database file" in _one_error_line(proc, "COMMAND_CENTER_DUCKDB")
    assert bogus.read_text().startswith("these are my notes")  # untouched


@pytest.mark.parametrize("command", ["status", "build"])
def test_a_bad_memory_limit_names_the_setting(command, tmp_path):
    proc = _run([command], tmp_path, COMMAND_CENTER_DUCKDB=str(tmp_path / "cc.duckdb"),
                COMMAND_CENTER_DUCKDB_MEMORY_LIMIT="lots")
    assert "3GB" in _one_error_line(proc, "COMMAND_CENTER_DUCKDB_MEMORY_LIMIT")


# ------------------------------------------------------------------------------------------------
# building before there is anything to build from
# ------------------------------------------------------------------------------------------------

GOOD_EVENT = ('{"event_id":"e1","workflow_id":"fulfillment_v2","run_id":"r1","event_type":"run_started",'
              '"event_ts":"2026-11-20T10:00:00Z","region":"us-east-1"}\n')
BAD_EVENT = ('{"event_id":"e2","workflow_id":"fulfillment_v2","run_id":"r2","event_type":"run_started",'
             '"event_ts":"not a time","region":"us-east-1"}\n')


@pytest.fixture
def first_run_env(tmp_path, monkeypatch):
    for key, value in {
        "COMMAND_CENTER_DUCKDB": str(tmp_path / "wh" / "cc.duckdb"),
        "COMMAND_CENTER_LANDING_DIR": str(tmp_path / "landing"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
        "COMMAND_CENTER_DBT_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        **TELEMETRY_OFF,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("COMMAND_CENTER_PUBLISHED_DUCKDB", raising=False)
    return tmp_path


def _published_counts(tmp_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(tmp_path / "wh" / "cc_published.duckdb"), read_only=True)
    try:
        return dict(con.execute("select table_name, row_count from publication.published_marts").fetchall())
    finally:
        con.close()


#: Marts that are not empty without events: the register's workflows, the build's (null) as-of instant,
#: and what landing did (files landed, rows quarantined), checked by each test.
NOT_EVENT_MARTS = {"dim_workflows", "dim_as_of", "fct_landed_files", "agg_quarantine_reasons"}


def _event_marts_are_empty(counts: dict[str, int]) -> None:
    assert counts["dim_workflows"] > 0  # the register's workflows exist before any event
    assert counts["dim_as_of"] == 1  # one row, as_of null
    for name, rows in counts.items():
        if name not in NOT_EVENT_MARTS:
            assert rows == 0, (name, rows)


def test_build_on_an_empty_warehouse_gives_empty_marts_and_a_note(first_run_env, capsys):
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "note: the warehouse holds no events yet, so the marts are empty" in out
    counts = _published_counts(first_run_env)
    _event_marts_are_empty(counts)
    assert counts["fct_landed_files"] == counts["agg_quarantine_reasons"] == 0


def test_build_with_only_quarantined_rows_gives_empty_marts_and_a_note(first_run_env, capsys):
    bad = first_run_env / "bad.jsonl"
    bad.write_text(BAD_EVENT)
    assert main(["ingest", str(bad)]) == 0
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "note: the warehouse holds no events yet (1 quarantined row(s) only" in out
    counts = _published_counts(first_run_env)
    _event_marts_are_empty(counts)
    assert counts["fct_landed_files"] == counts["agg_quarantine_reasons"] == 1  # the file, its one reason


def test_build_with_a_single_event(first_run_env, capsys):
    one = first_run_env / "one.jsonl"
    one.write_text(GOOD_EVENT)
    assert main(["ingest", str(one)]) == 0
    assert main(["build"]) == 0
    assert "note:" not in capsys.readouterr().out
    counts = _published_counts(first_run_env)
    assert counts["fct_workflow_runs"] == 1 and counts["agg_owner_leaderboard"] > 0
    con = duckdb.connect(str(first_run_env / "wh" / "cc_published.duckdb"), read_only=True)
    assert con.execute("select final_status, ended_at from marts.fct_workflow_runs").fetchall() == [("in_flight", None)]
    con.close()
