"""The command-line surface: --help everywhere, non-zero exits and readable errors (no tracebacks)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main

SUBCOMMANDS = ["generate", "ingest", "build", "status", "register", "parse", "demo"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, cc_env):
    cc_env.apply(monkeypatch, tmp_path, duckdb=tmp_path / "cli.duckdb")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: command-center " + command in capsys.readouterr().out


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "command-center"
    assert exe.exists()
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for command in SUBCOMMANDS:
        assert command in out


def test_ingest_errors_are_readable(tmp_path, capsys):
    bad = tmp_path / "garbage.parquet"
    bad.write_bytes(b"not parquet")
    good = tmp_path / "ok.jsonl"
    good.write_text(
        '{"event_id":"e1","workflow_id":"fulfillment_v2","run_id":"r1","event_type":"run_started",'
        '"event_ts":"2026-11-20T10:00:00Z","region":"us-east-1"}\n'
    )
    code = main(["ingest", str(bad), str(good)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"error: {bad}: is not a Parquet file, or is truncated" in captured.out
    assert "read 1, loaded 1, quarantined 0" in captured.out  # the good file still landed
    assert "1 file(s) landed, 0 already loaded, 1 refused" in captured.out
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ingest", "--map", "case_id", "--log-format", "minimal", "--workflow", "w", "x.csv"], "--map expects FIELD=COLUMN"),
        (["generate", "--out", "events.txt"], "cannot tell the format"),
        (["generate", "--out", "e.jsonl", "--end-date", "yesterday"], "--end-date must be YYYY-MM-DD"),
        (["generate", "--out", "e.jsonl", "--days", "0"], "must be positive"),
    ],
)
def test_usage_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_invalid_register_fails_with_path_and_rule(tmp_path, monkeypatch, capsys):
    reg = tmp_path / "bad.yml"
    text = (Path(__file__).resolve().parents[2] / "command_center.yml").read_text()
    reg.write_text(text.replace("cycle_time_p90_hours: 2.0", "cycle_time_p90_hours: 0", 1))
    monkeypatch.setenv("COMMAND_CENTER_REGISTER", str(reg))
    assert main(["register"]) == 1
    err = capsys.readouterr().err
    assert "owners[1].sla.cycle_time_p90_hours: must be greater than 0" in err


def test_second_writer_gets_a_clear_error(tmp_path):
    """DuckDB allows one writer: a CLI process meeting a held lock says so instead of corrupting anything."""
    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        good = tmp_path / "ok.jsonl"
        good.write_text('{"event_id":"e1"}\n')
        env = {**os.environ, "COMMAND_CENTER_DUCKDB": str(db)}
        exe = Path(sys.executable).parent / "command-center"
        proc = subprocess.run([str(exe), "ingest", str(good)], capture_output=True, text=True, env=env, check=False)
        assert proc.returncode == 1
        assert "is in use by another process" in proc.stderr and "Traceback" not in proc.stderr
    finally:
        holder.kill()


def test_ingest_a_folder_lands_its_files_and_always_retries_refusals(tmp_path, capsys):
    folder = tmp_path / "drop"
    (folder / "day1").mkdir(parents=True)
    (folder / "day1" / "a.jsonl").write_text(
        '{"event_id":"e1","workflow_id":"fulfillment_v2","run_id":"r1","event_type":"run_started",'
        '"event_ts":"2026-11-20T10:00:00Z","region":"us-east-1"}\n'
    )
    (folder / "bad.parquet").write_bytes(b"nope")
    (folder / "notes.txt").write_text("ignored")
    assert main(["ingest", str(folder)]) == 1
    assert "1 file(s) landed, 0 already loaded, 1 refused" in capsys.readouterr().out
    # an explicit ingest does not remember refusals: it tries again and reports again
    assert main(["ingest", str(folder)]) == 1
    assert "0 file(s) landed, 1 already loaded, 1 refused" in capsys.readouterr().out


def test_folder_convention_lands_minimal_logs_of_the_named_workflow(tmp_path, capsys):
    folder = tmp_path / "drop"
    case_dir = folder / "minimal" / "returns_processing_v1"
    case_dir.mkdir(parents=True)
    (case_dir / "cases.csv").write_text(
        "case_id,event_name,timestamp,actor\nR1,return_requested,2026-11-20T08:00:00Z,web\n"
        "R1,refund_issued,2026-11-20T09:30:00Z,billing\n"
    )
    assert main(["ingest", str(folder)]) == 0
    import os

    from orchestration.lib.warehouse import connect

    con = connect(os.environ["COMMAND_CENTER_DUCKDB"], read_only=True)
    rows = con.execute("select workflow_id, run_id, log_format, region from raw.workflow_events").fetchall()
    assert rows == [("returns_processing_v1", "R1", "minimal", "us-east-1")] * 2


def test_unexpected_failures_are_one_readable_line(tmp_path, monkeypatch, capsys):
    # a file that is not DuckDB is a configuration error (tests/integration/test_first_run.py); a
    # failure inside the code is not: it says how to see the traceback
    import orchestration.lib.reports as reports

    def broken(_settings):
        raise duckdb.InternalException("something inside broke")

    monkeypatch.setattr(reports, "status_report", broken)
    (tmp_path / "cli.duckdb").write_bytes(b"")  # status reads a warehouse only when there is one
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "cli.duckdb"))
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected failure in `command-center status`") and "COMMAND_CENTER_DEBUG" in err
    monkeypatch.setenv("COMMAND_CENTER_DEBUG", "1")
    with pytest.raises(duckdb.Error):
        main(["status"])
