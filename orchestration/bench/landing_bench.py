"""Landing against its floors (issue 15, target 1): the benchmark's landing steps.

For each format the floor is DuckDB alone copying the file into a table of a fresh DuckDB file
(``CREATE TABLE AS SELECT * FROM read_parquet / read_json / read_csv``), with the warehouse's memory
limit; the landing is ``land_file`` of the same file into a fresh warehouse (steps.step_ingest).
Ratio = landing / floor, both measured in the same run.

* Parquet at every size (the run's events.parquet).
* JSON Lines and CSV at sizes up to ``FORMATS_MAX_EVENTS`` (files exported once from the Parquet by
  DuckDB and cached beside it): their landing reads text, so a 10M text run would take the
  machine for many minutes.
* A second Parquet landing with ``DEFECT_RATE`` > 0 (the generator's defect kinds for Parquet, same
  seed and size as the clean data, cached): the same checks must quarantine exactly the injected
  rows and load exactly the clean events (nothing is tuned to clean data).

Every landing reports ``max_temp_bytes``: the largest size of the warehouse's DuckDB temp directory
seen while it ran (polled), 0 when nothing spilled.

Standalone (only these steps, e.g. on the cached 10M data):
``python -m orchestration.bench.landing_bench --data DIR --out DIR`` (DIR holds events.parquet).
"""
from __future__ import annotations

import argparse
import json
import shutil
import threading
import time
from pathlib import Path

#: Largest size at which JSON Lines and CSV are landed (and floored) too.
FORMATS_MAX_EVENTS = 1_000_000
#: Largest size of the defect-rate landing (its data is generated once per size).
DEFECT_MAX_EVENTS = 1_000_000
DEFECT_RATE = 0.01

_READERS = {
    "parquet": "read_parquet('{file}')",
    "jsonl": "read_json('{file}', format='newline_delimited')",
    "csv": "read_csv('{file}', header=true)",
}


class TempDirWatch:
    """Poll a directory's total size in a thread while DuckDB works (the GIL is free meanwhile)."""

    def __init__(self, directory: Path, every: float = 0.1):
        self.directory, self.every, self.max_bytes = directory, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _size(self) -> int:
        try:
            return sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())
        except OSError:  # a file vanished while listed
            return self.max_bytes

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.directory.exists():
                self.max_bytes = max(self.max_bytes, self._size())
            self._stop.wait(self.every)

    def __enter__(self) -> TempDirWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def temp_directory(con) -> Path:
    return Path(con.execute("select current_setting('temp_directory')").fetchone()[0])


def step_floor_land(args: dict) -> dict:
    """CTAS of the whole file into a fresh DuckDB file (the warehouse's memory limit), timed."""
    import duckdb

    from orchestration.lib.warehouse import memory_limit

    db = Path(args["db"])
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute(f"set memory_limit = '{memory_limit()}'")
    source = _READERS[args["format"]].format(file=str(args["file"]).replace("'", "''"))
    with TempDirWatch(temp_directory(con)) as watch:
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute(f"create table events as select * from {source}")
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = con.execute("select count(*) from events").fetchone()[0]
    con.close()
    db.unlink(missing_ok=True)
    return {"seconds": seconds, "cpu_s": cpu, "rows": rows, "max_temp_bytes": watch.max_bytes}


def step_export(args: dict) -> dict:
    """The Parquet file as JSON Lines or CSV (DuckDB COPY; untimed preparation)."""
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    src, out = str(args["file"]).replace("'", "''"), str(args["out"]).replace("'", "''")
    fmt = "(format json)" if args["format"] == "jsonl" else "(format csv, header true)"
    t0 = time.perf_counter()
    con.execute(f"copy (select * from read_parquet('{src}')) to '{out}' {fmt}")
    return {"seconds": time.perf_counter() - t0}


def step_generate_defects(args: dict) -> dict:
    from datetime import date

    from orchestration.lib.generator import generate_events, write_events

    t0 = time.perf_counter()
    window = generate_events(days=args["days"], runs_per_day=args["runs_per_day"], seed=args["seed"],
                             end_date=date.fromisoformat(args["end_date"]), defect_rate=args["defect_rate"],
                             fmt="parquet")
    n = write_events(window, Path(args["events"]), "parquet")
    return {"seconds": time.perf_counter() - t0, "events": n}


def step_ingest_watched(args: dict) -> dict:
    """steps.step_ingest (land_file, timed) while the warehouse's temp directory is watched."""
    import orchestration.lib.landing as landing
    from orchestration.bench.steps import step_ingest

    cpu, landed = [], []
    land_file = landing.land_file

    def timed(*a, **kw):  # CPU seconds of land_file only (every thread of the process)
        c0 = time.process_time()
        try:
            landed.append(land_file(*a, **kw))
            return landed[-1]
        finally:
            cpu.append(time.process_time() - c0)

    landing.land_file = timed  # step_ingest imports land_file from the package when it runs
    try:
        with TempDirWatch(Path(str(args["db"]) + ".tmp")) as watch:  # DuckDB's default temp_directory
            result = step_ingest(args)
    finally:
        landing.land_file = land_file
    reasons = landed[-1].quarantine_reasons if landed else {}
    return {**result, "cpu_s": sum(cpu), "reasons": reasons, "max_temp_bytes": watch.max_bytes}


STEPS = {"floor_land": step_floor_land, "export": step_export, "generate_defects": step_generate_defects,
         "ingest": step_ingest_watched}


def child(bench, step: str, args: dict, log: Path):
    """Run one of STEPS in a fresh interpreter, like Bench.python_step (peak RSS of the child)."""
    import sys

    from orchestration.bench.runner import Measured, run_child

    result_path = log.with_suffix(".json")
    cmd = [sys.executable, "-m", "orchestration.bench.landing_bench", "step", step, json.dumps(args), str(result_path)]
    wall, code, rss = run_child(cmd, env=bench.env(), log=log)
    if code != 0:
        raise RuntimeError(f"step {step} failed (exit {code}); see {log}")
    result = json.loads(result_path.read_text())
    return Measured(wall, result["seconds"], rss, result)


def _cached(bench, step: str, args: dict, out: Path, log: Path) -> None:
    """Run a preparation step unless ``out`` exists with a meta file holding the same arguments."""
    meta = out.with_name(out.name + ".meta.json")
    if out.exists() and meta.exists() and json.loads(meta.read_text()) == args:
        return
    m = child(bench, step, args, log)
    meta.write_text(json.dumps(args))
    bench.log(f"  prepared {out.name} in {m.wall:.1f} s")


def run_landing(bench, label: str, events: int, data: Path, work: Path, logs: Path, *,
                clean_loaded: int | None = None) -> None:
    """The floors, the text-format landings and the defect landing at one size (after `ingest`; skipped
    when the runner's step selection leaves `ingest` out)."""
    if "ingest" not in getattr(bench, "steps", {"ingest"}):
        return
    files = {"parquet": data / "events.parquet"}
    if events <= FORMATS_MAX_EVENTS:
        for fmt in ("jsonl", "csv"):
            files[fmt] = data / f"events.{fmt}"
            _cached(bench, "export", {"file": str(files["parquet"]), "out": str(files[fmt]), "format": fmt},
                    files[fmt], logs / f"export_{fmt}.log")
    landing = _landing(bench, label)
    for fmt, path in files.items():
        floor = [child(bench, "floor_land", {"file": str(path), "format": fmt, "db": str(work / f"floor_{fmt}.duckdb")},
                                   logs / f"floor_land_{fmt}_{i}.log") for i in range(bench.reps)]
        _record(bench, f"floor_land_{fmt}", label, events, floor, cpu_s=_median(floor, "cpu_s"),
                     max_temp_bytes=max(m.result["max_temp_bytes"] for m in floor))
        landing[fmt] = {"floor_s": _median(floor), "floor_cpu_s": _median(floor, "cpu_s")}
        if fmt != "parquet":  # the Parquet landing is the `ingest` step
            runs = _ingest(bench, path, work / f"ingest_{fmt}.duckdb", logs / f"ingest_{fmt}")
            _record(bench, f"ingest_{fmt}", label, events, runs, **_quarantine(runs))
            landing[fmt].update(ingest_s=_median(runs), ingest_cpu_s=_median(runs, "cpu_s"))
    rows = bench.rows + landing["rows"]
    ingest = next((r for r in rows if r["step"] == "ingest" and r["size"] == label), None)
    if ingest:
        landing["parquet"].update(ingest_s=ingest["median_s"], ingest_cpu_s=ingest.get("cpu_s"))
    for fmt, d in landing.items():
        if fmt in files and d.get("ingest_s") and d.get("floor_s"):
            d["ratio"] = round(d["ingest_s"] / d["floor_s"], 2)
            if d.get("ingest_cpu_s") and d.get("floor_cpu_s"):
                d["cpu_ratio"] = round(d["ingest_cpu_s"] / d["floor_cpu_s"], 2)
            bench.log(f"  landing {fmt:<8} {label:>5}  {d['ingest_s']:.2f} s / floor {d['floor_s']:.2f} s = {d['ratio']}x"
                      f" (CPU {d.get('ingest_cpu_s')} s / {d.get('floor_cpu_s')} s = {d.get('cpu_ratio')}x)")
    if events <= DEFECT_MAX_EVENTS:
        defects(bench, label, events, data, work, logs, clean_loaded=clean_loaded)


def defects(bench, label: str, events: int, data: Path, work: Path, logs: Path, *, clean_loaded: int | None) -> None:
    """Land the same size generated with DEFECT_RATE: every injected row quarantined, every clean one loaded."""
    meta = json.loads((data / "meta.json").read_text())
    gen = {**{k: meta["args"][k] for k in ("days", "runs_per_day", "seed", "end_date")},
           "defect_rate": DEFECT_RATE, "events": str(data / "defects.parquet")}
    _cached(bench, "generate_defects", gen, data / "defects.parquet", logs / "generate_defects.log")
    runs = _ingest(bench, data / "defects.parquet", work / "ingest_defects.duckdb", logs / "ingest_defects")
    row = _record(bench, "ingest_defects", label, events, runs, **_quarantine(runs))
    r = runs[0].result
    expected_loaded = clean_loaded if clean_loaded is not None else meta["events"]
    injected = r["rows_loaded"] + r["rows_quarantined"] - meta["events"]
    check = {"defect_rate": DEFECT_RATE, "rows_read": r["rows_loaded"] + r["rows_quarantined"],
             "rows_loaded": r["rows_loaded"], "rows_quarantined": r["rows_quarantined"], "injected": injected,
             "reasons": r.get("reasons", {}), "ok": r["rows_loaded"] == expected_loaded and r["rows_quarantined"] == injected}
    bench.details[label]["landing"]["defects"] = check
    row["defects_ok"] = check["ok"]
    if not check["ok"]:
        bench.failures.append(f"[{label}] defect landing: loaded {r['rows_loaded']} (expected {expected_loaded}), "
                              f"quarantined {r['rows_quarantined']} (injected {injected})")


def _landing(bench, label: str) -> dict:
    landing = bench.details.setdefault(label, {}).setdefault("landing", {})
    landing.setdefault("rows", [])
    return landing


def _record(bench, step: str, label: str, events: int, runs: list, **extra) -> dict:
    """Bench.record (median, min-max, peak RSS, logged), kept in details[label]["landing"]["rows"]: the
    runner's table lists the runner's STEPS; landing_markdown lists these."""
    row = bench.record(step, label, events, runs, **extra)
    bench.rows.remove(row)
    _landing(bench, label)["rows"].append(row)
    return row


def _ingest(bench, path: Path, db: Path, log: Path) -> list:
    runs = []
    for i in range(bench.reps):
        db.unlink(missing_ok=True)
        runs.append(child(bench, "ingest", {"db": str(db), "file": str(path)}, log.with_name(f"{log.name}_{i}.log")))
        db.unlink(missing_ok=True)
    return runs


def _median(runs: list, key: str | None = None) -> float | None:
    if key and not all(key in m.result for m in runs):
        return None
    secs = sorted(m.result[key] if key else m.seconds for m in runs)
    return round(secs[len(secs) // 2] if len(secs) % 2 else (secs[len(secs) // 2 - 1] + secs[len(secs) // 2]) / 2, 3)


def _quarantine(runs: list) -> dict:
    r = runs[0].result
    return {"rows_loaded": r["rows_loaded"], "rows_quarantined": r["rows_quarantined"], "cpu_s": _median(runs, "cpu_s"),
            "max_temp_bytes": max(m.result.get("max_temp_bytes", 0) for m in runs)}


def landing_markdown(details: dict) -> list[str]:
    """The results.md section: landing / floor per format, and the defect landing's check."""
    lines = ["", "## Landing against its floors (same run)", "",
             "| size | format | landing s | floor s (CTAS) | landing / floor | landing CPU s | floor CPU s | CPU ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for size, d in details.items():
        for fmt, x in d.get("landing", {}).items():
            if fmt not in ("defects", "rows"):
                lines.append(f"| {size} | {fmt} | {x.get('ingest_s', '')} | {x.get('floor_s', '')} | {x.get('ratio', '')} | "
                             f"{x.get('ingest_cpu_s') or ''} | {x.get('floor_cpu_s') or ''} | {x.get('cpu_ratio') or ''} |")
    lines += ["", "| step | size | median s | CPU s | peak RSS MiB | max temp dir bytes (spill) | loaded | quarantined |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for size, d in details.items():
        for r in d.get("landing", {}).get("rows", []):
            lines.append(f"| {r['step']} | {size} | {r['median_s']:.2f} | {r.get('cpu_s') or ''} | {r['peak_rss_mib']:.0f} | "
                         f"{r.get('max_temp_bytes', '')} | {r.get('rows_loaded', '')} | {r.get('rows_quarantined', '')} |")
    for size, d in details.items():
        c = d.get("landing", {}).get("defects")
        if c:
            lines.append(f"- {size} defect landing (defect_rate {c['defect_rate']}): read {c['rows_read']:,}, loaded "
                         f"{c['rows_loaded']:,}, quarantined {c['rows_quarantined']:,} of {c['injected']:,} injected: "
                         f"{'ok' if c['ok'] else 'MISMATCH'}; reasons {c['reasons']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    import sys

    from orchestration.bench.runner import Bench

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["step"]:  # a child: step ARGS_JSON RESULT_JSON
        step, args_json, result_json = argv[1:]
        Path(result_json).write_text(json.dumps(STEPS[step](json.loads(args_json)), default=str))
        return 0
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench.landing_bench", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a size's data dir (events.parquet, meta.json)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    meta = json.loads((args.data / "meta.json").read_text())
    label = args.data.name
    bench = Bench(args.out, args.reps)
    work, logs = args.out / "work" / label, args.out / "logs" / label
    work.mkdir(parents=True, exist_ok=True)
    runs = _ingest(bench, args.data / "events.parquet", work / "ingest.duckdb", logs / "ingest")
    _record(bench, "ingest", label, meta["events"], runs, **_quarantine(runs))
    run_landing(bench, label, meta["events"], args.data, work, logs, clean_loaded=runs[0].result["rows_loaded"])
    shutil.rmtree(work, ignore_errors=True)
    result = {"details": bench.details, "failures": bench.failures}
    (args.out / "landing_results.json").write_text(json.dumps(result, indent=2, default=str))
    print("\n".join(landing_markdown(bench.details)))
    return 1 if bench.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
