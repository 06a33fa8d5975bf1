"""Benchmark: land a large generated XES log, and show that parsing it takes constant memory.

    .venv/bin/python -m orchestration.bench.xes_landing --events 1000000 [--gz] [--keep DIR]

Generates an order-to-ship XES log of about ``--events`` events (generator/xes.py), then, each in
a child process so its peak RSS is its own: (1) the XES parser alone (landing/xes.py's iterparse
walk, records discarded instead of handed to DuckDB) at a tenth and at the full size, whose peak
RSS must not grow with the file; (2) ``land_file`` of the whole log into a fresh warehouse (the
parser plus the shared minimal-log validation in DuckDB, whose memory is bounded by
COMMAND_CENTER_DUCKDB_MEMORY_LIMIT, not by the parser). Prints one JSON object.
docs/benchmarks.md ("XES landing") has the results.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

#: Events per case of the generated journey (about: lifecycle starts included), to size the log.
_EVENTS_PER_CASE = 9.4
_DAYS = 30
_END = date(2026, 11, 20)


def _child(mode: str, path: Path, db: Path | None) -> dict:
    started = time.perf_counter()
    if mode == "parse":
        from orchestration.lib.landing import xes

        class Discard:
            events: list = []
            traces: list = []
            n = 0

            def flush(self) -> None:
                self.n += len(self.events)
                self.events.clear()
                self.traces.clear()

        sink = Discard()
        with xes._open(path) as fh:
            xes._parse(path, fh, sink)
        rows = sink.n
    else:
        from orchestration.lib.landing import land_file
        from orchestration.lib.register import load_register
        from orchestration.lib.warehouse import connect
        from orchestration.settings import REPO_ROOT

        con = connect(db)
        result = land_file(
            con, path, register=load_register(REPO_ROOT / "command_center.yml"), salt="bench", log_format="xes",
            workflow="order_to_ship", region="us-east-1", now=datetime(_END.year, _END.month, _END.day, tzinfo=UTC),
        )
        rows = result.rows_loaded
        con.close()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"rows": rows, "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb)}


def _run_child(mode: str, path: Path, db: Path | None = None) -> dict:
    args = [sys.executable, "-m", "orchestration.bench.xes_landing", "--child", mode, str(path)]
    if db is not None:
        args.append(str(db))
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["events_per_second"] = round(result["rows"] / max(result["seconds"], 1e-9))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench.xes_landing")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--gz", action="store_true", help="write and land a .xes.gz")
    parser.add_argument("--keep", help="folder for the generated logs and warehouse (default: a temporary one)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, path, *db = args.child
        print(json.dumps(_child(mode, Path(path), Path(db[0]) if db else None)))
        return 0

    from orchestration.lib.generator.xes import write_xes_log

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cc_xes_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        suffix = ".xes.gz" if args.gz else ".xes"
        logs = {}
        for label, events in (("tenth", args.events // 10), ("full", args.events)):
            path = work / f"{label}{suffix}"
            per_day = max(1, round(events / _EVENTS_PER_CASE / _DAYS))
            traces, written = write_xes_log(path, days=_DAYS, cases_per_day=per_day, seed=1, end_date=_END)
            logs[label] = (path, written, path.stat().st_size)
        report = {
            "events": logs["full"][1], "file_mb": round(logs["full"][2] / 2**20), "gzip": args.gz,
            "parse_tenth": {"events": logs["tenth"][1], **_run_child("parse", logs["tenth"][0])},
            "parse_full": _run_child("parse", logs["full"][0]),
            "land_full": _run_child("land", logs["full"][0], work / "bench.duckdb"),
        }
        print(json.dumps(report, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
