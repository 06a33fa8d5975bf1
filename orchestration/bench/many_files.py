"""Benchmark: land a folder of many one-row JSON Lines files (hourly exports from many producers).

    .venv/bin/python -m orchestration.bench.many_files --files 10000 [--history 1000000] [--one-by-one]

Writes ``--files`` one-row files into a fresh landing folder, then lands the folder with
``land_paths`` exactly as the Dagster landing asset does (one transaction and one ledger row per file,
refusals remembered) into a fresh warehouse, optionally holding ``--history`` events landed before
(so per-file costs that grow with history show). Prints one JSON object: seconds in all, files per
second, and the seconds of each tenth of the files (flat when no per-file cost grows with what was
landed before). Target (issue 19): 10,000 files in under 60 s. docs/benchmarks.md has the results.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET_SECONDS = 60.0


class _TimingLog:
    """A land_paths ``log`` that timestamps every file it reports."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def info(self, message: str) -> None:
        self.stamps.append(time.perf_counter())

    def warning(self, message: str) -> None:
        self.stamps.append(time.perf_counter())


def write_files(folder: Path, n: int, *, now: datetime) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ts = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in range(n):
        record = {
            "event_id": f"many-{i:06d}", "workflow_id": "fulfillment_v2", "run_id": f"run-{i // 2:06d}",
            "event_type": "run_started" if i % 2 == 0 else "run_completed", "event_ts": ts,
            "region": "us-east-1", "cost_cents": 1.5,
        }
        (folder / f"producer-{i % 97:02d}").mkdir(exist_ok=True)
        (folder / f"producer-{i % 97:02d}" / f"export-{i:06d}.jsonl").write_text(json.dumps(record) + "\n")


def add_history(con, n: int, *, now: datetime) -> None:
    """``n`` events of an earlier load (one ledger row), inserted directly: history for the landing."""
    if n <= 0:
        return
    con.execute(
        """insert into raw.workflow_events (event_id, workflow_id, run_id, event_type, event_ts, region, log_format,
                                            load_id, source_file, source_row_number, loaded_at)
           select 'hist-' || i, 'fulfillment_v2', 'hist-run-' || (i // 2), 'stage_completed',
                  ?::timestamp - interval 2 day, 'us-east-1', 'telemetry', 'history', 'history.jsonl', i + 1, ?::timestamp
           from range(?) t(i)""",
        [now.replace(tzinfo=None), now.replace(tzinfo=None), n],
    )
    con.execute(
        """insert into raw.load_ledger (load_id, file_sha256, file_path, file_format, log_format, file_bytes,
                                        rows_read, rows_loaded, rows_quarantined, loaded_at)
           values ('history', 'history', 'history.jsonl', 'jsonl', 'telemetry', 0, ?, ?, 0, ?)""",
        [n, n, now.replace(tzinfo=None)],
    )


def run(files: int, *, history: int = 0, workdir: Path | None = None, one_by_one: bool = False) -> dict:
    from orchestration.lib.landing import discover_landing_files, land_paths, landing_options_for
    from orchestration.lib.register import land_register, load_register, register_sha256
    from orchestration.lib.warehouse import open_warehouse
    from orchestration.settings import REPO_ROOT

    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="cc_many_files_")) if own else Path(workdir)
    try:
        now = datetime.now(UTC)
        folder = workdir / "landing"
        write_files(folder, files, now=now)
        register_path = REPO_ROOT / "command_center.yml"
        register = load_register(register_path)
        with open_warehouse(workdir / "warehouse.duckdb") as con:
            land_register(con, register, source_path=str(register_path), sha256=register_sha256(register_path))
            add_history(con, history, now=now)
            log = _TimingLog()
            start = time.perf_counter()
            paths = discover_landing_files(folder)
            batch = land_paths(con, paths, register=register, salt="bench", log=log, remember_refusals=True,
                               options_for=landing_options_for, small_file_groups=not one_by_one)
            seconds = time.perf_counter() - start
            ledger_rows = con.execute("select count(*) from raw.load_ledger").fetchone()[0]
        tenth = max(1, files // 10)
        marks = [start, *log.stamps]
        tenths = [round(marks[min(i + tenth, len(marks) - 1)] - marks[i], 3) for i in range(0, files, tenth)]
        return {
            "files": files, "history_events": history, "one_by_one": one_by_one, "seconds": round(seconds, 2),
            "files_per_second": round(files / seconds, 1) if seconds else None,
            "landed": len(batch.landed), "refused": len(batch.refused), "ledger_rows": ledger_rows,
            "seconds_per_tenth": tenths, "target_seconds": TARGET_SECONDS, "within_target": seconds < TARGET_SECONDS,
        }
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=0, help="events already in the warehouse")
    parser.add_argument("--workdir", type=Path, help="keep the folder and warehouse here (default: a temp dir)")
    parser.add_argument("--one-by-one", action="store_true", help="land every file alone (the behaviour before groups)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.files, history=args.history, workdir=args.workdir, one_by_one=args.one_by_one)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
