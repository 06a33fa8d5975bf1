"""Parent side of the benchmark: sizes x steps x repetitions, each in a child process.

Wall times are medians over repetitions; peak RSS is the largest ru_maxrss over a step's
repetitions, read with os.wait4 for each child (it covers the child and every descendant it
waited for, e.g. DuckDB inside dbt). See docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orchestration.bench.compare import compare_outputs
from orchestration.bench.landing_bench import landing_markdown, run_landing
from orchestration.bench.scale import CHUNK_EVENTS, CHUNKED_ABOVE, run_scale_size, scale_markdown
from orchestration.lib.dbt import full_build_thread_args
from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

#: events per (day x runs_per_day) of the generator with the repository's register (~12.2 events
#: per run, measured); used to choose runs_per_day for a requested size
EVENTS_PER_DAY_PER_RUN_UNIT = 70.8
END_DATE = date(2026, 11, 2)  # a Monday; fixed so every run of the benchmark sees the same bytes
SEED = 20261102

STEPS = ("ingest", "dbt_run_core", "dbt_run", "dbt_build", "incremental_land", "incremental_build",
         "incremental_floor", "floor", "pandas", "polars")
#: the nightly build (selectors.yml `nightly`): what the daily Dagster job runs (orchestration/defs/dbt.py)
NIGHTLY_SELECTOR = "nightly"
#: the steps that compute the floor's four outputs outside dbt, each checked equal to the marts (compare.py)
PEERS = ("floor", "pandas", "polars")
#: the marts the floor's four outputs are compared with; `dbt run --select` of them and their parents is
#: the like-for-like counterpart of the floor (dbt_run_core)
CORE_MARTS = ("fct_workflow_runs", "agg_workflow_weekly", "agg_exception_aging_weekly", "agg_exception_budget_monthly")
STEP_TEXT = {
    "ingest": "land_file of the Parquet into a fresh DuckDB (file -> raw tables)",
    "dbt_run_core": "`dbt run --select` the four marts the floor is compared with, and their parents",
    "dbt_run": "`dbt run`: every model, no tests",
    "dbt_build": "`dbt build`: every model + data tests + unit tests",
    "incremental_land": "land_file of one more day (after the full build)",
    "incremental_build": "`dbt build --selector nightly` after landing one more day (the nightly build: same "
                         "warehouse path and target dir as the full build, so dbt parses partially)",
    "incremental_floor": "hand-written DuckDB SQL (floor_incremental.sql) bringing the floor's outputs up to date "
                         "with the day, on a DuckDB holding the history",
    "floor": "hand-written DuckDB SQL (floor.sql) from the Parquet",
    "pandas": "pandas implementation from the Parquet",
    "polars": "polars implementation from the Parquet (lazy scan_parquet, collect_all on the streaming engine)",
}


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "km" else text) * mult)


def size_label(n: int) -> str:
    return f"{n / 1_000_000:g}M" if n >= 1_000_000 else f"{n / 1000:g}k"


def plan_for(target: int) -> tuple[int, int]:
    days = 90 if target >= 500_000 else 28
    return days, max(1, round(target / (days * EVENTS_PER_DAY_PER_RUN_UNIT)))


class Measured:
    def __init__(self, wall: float, seconds: float, rss_kib: int, result: dict):
        self.wall, self.seconds, self.rss_kib, self.result = wall, seconds, rss_kib, result


def run_child(command: list[str], *, env: dict | None = None, log: Path, cwd: Path = REPO_ROOT) -> tuple[float, int, int]:
    """Run a command; (wall seconds, exit code, peak RSS KiB of it and its waited-for descendants)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode, usage.ru_maxrss


class Bench:
    def __init__(self, out: Path, reps: int, log=print, steps: frozenset[str] = frozenset(STEPS)):
        self.out = out
        self.steps = steps
        self.reps = reps
        self.log = log
        self.rows: list[dict] = []
        self.failures: list[str] = []
        self.details: dict = {}
        self.last_run_results: dict = {}
        #: `dbt --threads` for every dbt step (None: the profile's); sizes above chunk_above are chunked (scale.py)
        self.dbt_threads: int | None = None
        self.chunk_above, self.chunk_events = CHUNKED_ABOVE, CHUNK_EVENTS
        self.keep_work = False
        #: the first size's incremental day (file, events): landed on every later size too (_same_day steps)
        self.first_day: tuple[Path, int] | None = None

    # -- children ---------------------------------------------------------------------------------
    def python_step(self, step: str, args: dict, log: Path) -> Measured:
        result_path = log.with_suffix(".json")
        cmd = [sys.executable, "-m", "orchestration.bench.steps", step, json.dumps(args), str(result_path)]
        wall, code, rss = run_child(cmd, env=self.env(), log=log)
        if code != 0:
            raise RuntimeError(f"step {step} failed (exit {code}); see {log}")
        result = json.loads(result_path.read_text())
        return Measured(wall, result["seconds"], rss, result)

    def env(self, db: Path | None = None, target: Path | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_") and k != "COMMAND_CENTER_REGISTER"}
        env.update(TELEMETRY_OFF)
        env["COMMAND_CENTER_DBT_TARGET"] = "duckdb"
        env["DBT_PROFILES_DIR"] = str(REPO_ROOT / "profiles")
        # the freshness clock: the end of the benchmark data (+ the incremental day), not today
        env["COMMAND_CENTER_FRESHNESS_AS_OF"] = (END_DATE + timedelta(days=1)).isoformat() + " 00:00:00"
        if db is not None:
            env["COMMAND_CENTER_DUCKDB"] = str(db)
        if target is not None:
            env["DBT_TARGET_PATH"] = str(target)
            env["DBT_LOG_PATH"] = str(target / "logs")
        return env

    def dbt(self, command: str, db: Path, target: Path, log: Path, extra: tuple[str, ...] = ()) -> Measured:
        from orchestration.lib.dbt import dbt_executable

        cmd = [dbt_executable(), command, "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT / "profiles"),
               "--target", "duckdb", "--target-path", str(target), *extra]
        if self.dbt_threads:
            cmd += ["--threads", str(self.dbt_threads)]
        wall, code, rss = run_child(cmd, env=self.env(db, target), log=log)
        results = {}
        rr = target / "run_results.json"
        if rr.exists():
            results = json.loads(rr.read_text())
        bad = [r["unique_id"] for r in results.get("results", []) if str(r.get("status")).lower() in ("error", "fail")]
        if code != 0:
            self.failures.append(f"dbt {command} on {db.name} exited {code} ({len(bad)} errors/failures: "
                                 f"{', '.join(bad[:5])}); see {log}")
        return Measured(wall, wall, rss, {"exit": code, "run_results": results, "errors": bad})

    # -- bookkeeping ------------------------------------------------------------------------------
    def record(self, step: str, label: str, events: int, measured: list[Measured], **extra) -> dict:
        secs = [m.seconds for m in measured]
        median = statistics.median(secs)
        row = {
            "step": step, "size": label, "events": events, "reps": len(secs), "median_s": round(median, 3),
            "min_s": round(min(secs), 3), "max_s": round(max(secs), 3),
            "events_per_s": round(events / median) if median > 0 else None,
            "peak_rss_mib": round(max(m.rss_kib for m in measured) / 1024, 1), **extra,
        }
        self.rows.append(row)
        self.log(f"  {step:<18} {label:>5}  median {median:8.2f} s  ({len(secs)} reps)  "
                 f"{row['events_per_s'] or 0:>10,} ev/s  peak RSS {row['peak_rss_mib']:8.1f} MiB")
        return row

    # -- one size ---------------------------------------------------------------------------------
    def run_size(self, target_events: int) -> None:
        """Every step at one size: generate (cached), ingest, dbt run / build, incremental, floor, pandas."""
        if target_events > self.chunk_above:  # generate / ingest / dbt_build only, in chunks (scale.py)
            return run_scale_size(self, target_events, keep_work=self.keep_work)
        label = size_label(target_events)
        days, rpd = plan_for(target_events)
        data = self.out / "data" / label
        data.mkdir(parents=True, exist_ok=True)
        events_path, day_path = data / "events.parquet", data / "day.parquet"
        events, day_events = self.generate(label, days, rpd, data, events_path, day_path)

        work = self.out / "work" / label
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        logs = self.out / "logs" / label
        shutil.rmtree(logs, ignore_errors=True)

        landed = self.ingest_step(label, events, events_path, work, logs)
        run_landing(self, label, events, data, work, logs)  # floors of landing, text formats, defects
        built = self.dbt_steps(label, events, landed, work, logs)
        if self.steps & {"incremental_land", "incremental_build"}:
            self.incremental_steps(label, events, day_events, built, day_path, work, logs)
            if self.first_day is None:
                self.first_day = (day_path, day_events)
            else:  # the first size's day on this size's history too (incremental_steps, suffix _same_day)
                self.incremental_steps(label, events, self.first_day[1], built, self.first_day[0], work, logs,
                                       suffix="_same_day")
        if "incremental_floor" in self.steps:
            self.incremental_floor(label, day_events, events, events_path, day_path, logs)
        self.floor_and_pandas(label, events, events_path, work, logs)
        if self.steps & set(PEERS):
            self.check_equality(label, built, work)

    def generate(self, label: str, days: int, rpd: int, data: Path, events_path: Path,
                 day_path: Path) -> tuple[int, int]:
        """The size's events and one more day, generated once and reused while the arguments match."""
        meta_path = data / "meta.json"
        gen_args = {"days": days, "runs_per_day": rpd, "seed": SEED, "end_date": END_DATE.isoformat(),
                    "events": str(events_path), "day_events": str(day_path)}
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
        if not (meta and meta.get("args") == gen_args and events_path.exists() and day_path.exists()):
            self.log(f"[{label}] generating {days} days x {rpd} runs/day/workflow (defect_rate=0) ...")
            m = self.python_step("generate", gen_args, data / "generate.log")
            meta = {"args": gen_args, "events": m.result["events"], "day_events": m.result["day_events"],
                    "generate_seconds": round(m.wall, 2), "generate_peak_rss_mib": round(m.rss_kib / 1024, 1)}
            meta_path.write_text(json.dumps(meta, indent=2))
        events, day_events = meta["events"], meta["day_events"]
        self.log(f"[{label}] {events:,} events ({days} days), +1 day: {day_events:,} events")
        self.details.setdefault(label, {}).update({"events": events, "day_events": day_events, "days": days, "runs_per_day": rpd,
                               "generate_seconds": meta.get("generate_seconds")})
        return events, day_events

    def ingest_step(self, label: str, events: int, events_path: Path, work: Path, logs: Path) -> Path:
        """1. ingest, BENCH_REPS times into fresh files; returns the first landed warehouse."""
        runs = []
        for i in range(self.reps):
            db = work / f"ingest_{i}.duckdb"
            m = self.python_step("ingest", {"db": str(db), "file": str(events_path)}, logs / f"ingest_{i}.log")
            if m.result["rows_quarantined"]:
                self.failures.append(f"[{label}] landing quarantined {m.result['rows_quarantined']} rows")
            runs.append(m)
            if i:
                db.unlink()
        self.record("ingest", label, events, runs, rows_loaded=runs[0].result["rows_loaded"])
        landed = work / "landed.duckdb"
        (work / "ingest_0.duckdb").rename(landed)
        return landed

    def dbt_steps(self, label: str, events: int, landed: Path, work: Path, logs: Path) -> Path:
        """2. dbt run of the floor's marts (like for like), dbt run (every model) and dbt build (+ tests)."""
        runs = []
        select = ("--select", *(f"+{m}" for m in CORE_MARTS))
        for i in range(self.reps if "dbt_run_core" in self.steps else 0):
            db = work / "run.duckdb"
            shutil.copyfile(landed, db)
            runs.append(self.dbt("run", db, work / f"target_core_{i}", logs / f"dbt_run_core_{i}.log", select))
            db.unlink()
        if runs:
            self.record("dbt_run_core", label, events, runs)
            self.details[label]["dbt_run_core_models"] = len(runs[-1].result["run_results"].get("results", []))
        runs = []
        for i in range(self.reps if "dbt_run" in self.steps else 0):
            db = work / "run.duckdb"
            shutil.copyfile(landed, db)
            runs.append(self.dbt("run", db, work / f"target_run_{i}", logs / f"dbt_run_{i}.log",
                                 tuple(full_build_thread_args(events))))
            db.unlink()
        if runs:
            self.last_run_results = runs[-1].result["run_results"]
            self.record("dbt_run", label, events, runs)
        runs = []
        built = work / "build.duckdb"
        for i in range(self.reps):
            shutil.copyfile(landed, built)
            # a first build: the same thread choice as `command-center build` (orchestration/lib/dbt.py)
            runs.append(self.dbt("build", built, work / f"target_build_{i}", logs / f"dbt_build_{i}.log",
                                 tuple(full_build_thread_args(events))))
        self.record("dbt_build", label, events, runs)
        self.details[label]["dbt_build_threads"] = (full_build_thread_args(events) or ["", "profile (2)"])[1]
        self.details[label]["dbt_build_top_models"] = top_nodes(runs[-1].result["run_results"], kind="model.")
        self.details[label]["dbt_build_top_nodes"] = top_nodes(runs[-1].result["run_results"])
        self.details[label]["dbt_run_top_models"] = top_nodes(self.last_run_results, kind="model.")
        self.details[label]["dbt_build_nodes"] = len(runs[-1].result["run_results"].get("results", []))
        self.details[label]["dbt_build_elapsed"] = runs[-1].result["run_results"].get("elapsed_time")
        self.explain(label, built, work / f"target_build_{self.reps - 1}", logs)
        return built

    def incremental_steps(self, label: str, events: int, day_events: int, built: Path, day_path: Path, work: Path,
                          logs: Path, suffix: str = "") -> None:
        """3. incremental: one more day landed on the built warehouse, then the nightly build.

        suffix "_same_day": the first size's day (its file) instead of this size's, recorded as the steps
        incremental_land_same_day / incremental_build_same_day. The benchmark's day grows with the size
        (the generator spreads the size over 90 days), so this size's own day is larger than the first
        size's: with the same day on both, the 10M / 1M ratio isolates what the nightly build's cost owes
        to the history alone.

        Like a real nightly run, the nightly build uses the warehouse file and the target directory of the
        build before it: the same COMMAND_CENTER_DUCKDB (the profile's env vars are part of dbt's partial
        parse check) and a copy of the full build's target dir (its partial_parse.msgpack), so dbt parses
        partially. The built warehouse is kept aside and put back for each repetition and at the end.
        """
        lands, builds = [], []
        pristine = work / "built_pristine.duckdb"
        built.rename(pristine)
        full_target = work / f"target_build_{self.reps - 1}"
        try:
            for i in range(self.reps):
                shutil.copyfile(pristine, built)
                target = work / f"target_inc{suffix}_{i}"
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(full_target, target)
                (target / "run_results.json").unlink(missing_ok=True)
                # the nightly build's own debug log only (the full build's was copied with the target dir)
                shutil.rmtree(target / "logs", ignore_errors=True)
                lands.append(self.python_step("ingest", {"db": str(built), "file": str(day_path), "register": False},
                                              logs / f"incremental_land{suffix}_{i}.log"))
                log = logs / f"incremental_build{suffix}_{i}.log"
                builds.append(self.dbt("build", built, target, log, ("--selector", NIGHTLY_SELECTOR)))
                self.details[label].setdefault(f"incremental{suffix}_sql_seconds", []).append(
                    dbt_sql_seconds(target / "logs"))
                parse = [line for line in log.read_text(errors="replace").splitlines() if "partial pars" in line.lower()]
                self.details[label].setdefault(f"incremental{suffix}_parse", []).append(
                    parse[0].split("  ", 1)[-1] if parse else "partial parse")
        finally:
            pristine.replace(built)
        # the day is generated without defects: every event is loaded (the first size's day on a later size's
        # history too: its runs and event ids are its own, nothing collides)
        bad_lands = [m.result for m in lands if m.result.get("rows_quarantined") or m.result.get("rows_loaded") != day_events]
        if bad_lands:
            self.failures.append(f"incremental_land{suffix} at {label}: {bad_lands[0]} (expected {day_events} loaded, 0 quarantined)")
        self.record(f"incremental_land{suffix}", label, day_events, lands)
        sql = [v for v in self.details[label].get(f"incremental{suffix}_sql_seconds", []) if v is not None]
        self.record(f"incremental_build{suffix}", label, day_events, builds, history_events=events,
                    sql_median_s=round(statistics.median(sql), 3) if sql else None)
        if suffix:
            return
        self.details[label]["incremental_top_models"] = top_nodes(builds[-1].result["run_results"], kind="model.")
        self.details[label]["incremental_top_nodes"] = top_nodes(builds[-1].result["run_results"])
        self.details[label]["incremental_nodes"] = len(builds[-1].result["run_results"].get("results", []))

    def incremental_floor(self, label: str, day_events: int, events: int, events_path: Path, day_path: Path,
                          logs: Path) -> None:
        """3b. the incremental floor: the floor's outputs brought up to date with the day (floor_incremental.sql)."""
        runs = [self.python_step("floor_incremental", {"events": str(events_path), "day": str(day_path), "check": i == 0},
                                 logs / f"incremental_floor_{i}.log") for i in range(self.reps)]
        bad = {k: v for k, v in runs[0].result["mismatches"].items() if v}
        if bad:
            self.failures.append(f"[{label}] incremental floor != floor over history + day: {bad}")
        self.record("incremental_floor", label, day_events, runs, history_events=events)

    def floor_and_pandas(self, label: str, events: int, events_path: Path, work: Path, logs: Path) -> None:
        """4. floor, 5. pandas and 6. polars (the first repetition writes its outputs for the equality check)."""
        for step in PEERS:
            if step not in self.steps:
                continue
            runs = []
            for i in range(self.reps):
                args = {"events": str(events_path)}
                if i == 0:
                    args["out_dir"] = str(work / f"{step}_out")
                runs.append(self.python_step(step, args, logs / f"{step}_{i}.log"))
            self.record(step, label, events, runs)

    def check_equality(self, label: str, built: Path, work: Path) -> None:
        """The floor's, pandas' and polars' outputs equal the marts (else the ratios would compare different work)."""
        self.details[label]["equality"] = {}
        for step in (s for s in PEERS if s in self.steps):
            report = compare_outputs(built, work / f"{step}_out")
            self.details[label]["equality"][step] = report
            for name, r in report.items():
                status = "ok" if r["ok"] else "MISMATCH"
                self.log(f"  equality {step:>6} vs marts {name:<14} {status}: mart {r['mart_rows']} rows, "
                         f"{step} {r['other_rows']}, only-mart {r['only_mart']}, only-{step} {r['only_other']}, "
                         f"values {r['value_mismatches']}" + ("" if r["ok"] else f" (e.g. {r['example_key']})"))
                if not r["ok"]:
                    self.failures.append(f"[{label}] {step} != marts on {name}")

    def explain(self, label: str, db: Path, target: Path, logs: Path) -> None:
        """EXPLAIN ANALYZE of the slowest model of the build, from its compiled SQL."""
        results = json.loads((target / "run_results.json").read_text()).get("results", []) \
            if (target / "run_results.json").exists() else []
        models = [r for r in results if r["unique_id"].startswith("model.")]
        if not models:
            return
        slowest = max(models, key=lambda r: r.get("execution_time") or 0)
        name = slowest["unique_id"].split(".")[-1]
        compiled = list((target / "compiled").rglob(f"{name}.sql"))
        if not compiled:
            return
        out = logs / f"explain_{name}.txt"
        try:
            self.python_step("explain", {"db": str(db), "sql_file": str(compiled[0]), "out": str(out)},
                             logs / f"explain_{name}.log")
            self.details[label]["explain"] = {"model": name, "file": str(out)}
        except RuntimeError as exc:  # diagnostics only: never fails the benchmark
            self.details[label]["explain"] = {"model": name, "error": str(exc)}


_SQL_STATUS = re.compile(rb"SQL status: .*? in (\d+(?:\.\d+)?) seconds")


def dbt_sql_seconds(log_dir: Path) -> float | None:
    """The summed time of every SQL statement one dbt invocation ran (its debug log's "SQL status: ... in
    X seconds" lines, in dbt.log and the files it rotated to): the database's share of a build, summed over
    the threads. Steadier than the wall time on a shared machine: it leaves out dbt's own Python per node
    and process start-up, which do not depend on the data. None without a log."""
    files = sorted(log_dir.glob("dbt.log*"))
    if not files:
        return None
    return round(sum(float(m.group(1)) for f in files for m in _SQL_STATUS.finditer(f.read_bytes())), 3)


def top_nodes(run_results: dict, n: int = 8, kind: str = "") -> list[dict]:
    rows = [
        {"node": r["unique_id"], "seconds": round(r.get("execution_time") or 0, 3)}
        for r in run_results.get("results", []) if r["unique_id"].startswith(kind)
    ]
    return sorted(rows, key=lambda r: -r["seconds"])[:n]


def ratios(rows: list[dict]) -> list[dict]:
    by = {(r["step"], r["size"]): r for r in rows}
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    out = []
    for size in sizes:
        def m(step, size=size):
            row = by.get((step, size))
            return row["median_s"] if row else None

        def ratio(a, b):
            return round(a / b, 2) if a and b else None

        out.append({
            "size": size,
            "build_over_floor": ratio(m("dbt_build"), m("floor")),
            "run_over_floor": ratio(m("dbt_run"), m("floor")),
            "core_over_floor": ratio(m("dbt_run_core"), m("floor")),
            "pandas_over_build": ratio(m("pandas"), m("dbt_build")),
            "pandas_over_run": ratio(m("pandas"), m("dbt_run")),
            "polars_over_build": ratio(m("polars"), m("dbt_build")),
            "polars_over_run": ratio(m("polars"), m("dbt_run")),
            "polars_over_floor": ratio(m("polars"), m("floor")),
            "incremental_over_floor": ratio(m("incremental_build"), m("incremental_floor")),
        })
    inc = [(s, by[("incremental_build", s)]["median_s"]) for s in sizes if ("incremental_build", s) in by]
    sql = [(s, by[("incremental_build", s)].get("sql_median_s")) for s in sizes if ("incremental_build", s) in by]
    if len(inc) >= 2:
        base = inc[0]
        for s, v in inc[1:]:
            row = {"size": f"{s} vs {base[0]}", "incremental_over_incremental": round(v / base[1], 2)}
            sql_base, sql_here = sql[0][1], dict(sql).get(s)
            if sql_base and sql_here:
                row["incremental_sql_over_incremental_sql"] = round(sql_here / sql_base, 2)
            same_day = by.get(("incremental_build_same_day", s))
            if same_day:
                row["same_day_over_incremental"] = round(same_day["median_s"] / base[1], 2)
                if sql_base and same_day.get("sql_median_s"):
                    row["same_day_sql_over_incremental_sql"] = round(same_day["sql_median_s"] / sql_base, 2)
            out.append(row)
    return out


def git_state() -> dict:
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    return {"commit": git("rev-parse", "HEAD").strip(), "dirty_paths": len(git("status", "--short").splitlines())}


def markdown(result: dict) -> str:
    lines = [
        "# Benchmark results", "",
        f"- when: {result['started_at']} UTC; commit `{result['git']['commit'][:12]}` with "
        f"{result['git']['dirty_paths']} uncommitted paths (`git status --short | wc -l`) at the start; "
        f"at the end `{result['git_at_end']['commit'][:12]}` with {result['git_at_end']['dirty_paths']}",
        f"- machine: {result['machine']}; repetitions per size: {result['reps']} (median; peak RSS = max over reps)",
        "- data: the project's generator, Parquet, defect_rate=0 (nothing quarantined, so the floor and "
        "pandas and polars read the same events the landing loads)", "",
        "| step | size | events | reps | median s | min-max s | events/s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['step']} | {r['size']} | {r['events']:,} | {r['reps']} | {r['median_s']:.2f} | "
                     f"{r['min_s']:.2f}-{r['max_s']:.2f} | {r['events_per_s'] or 0:,} | {r['peak_rss_mib']:.0f} |")
    lines += ["", "incremental rows: events = the day landed (history = the size). The *_same_day rows land the first "
              "size's day on a later size's history: the same new data on 10x the history.", "",
              "| size | dbt build / floor | dbt run / floor | dbt run core / floor | pandas / dbt build | pandas / dbt run | "
              "polars / dbt build | polars / dbt run | polars / floor | nightly build / incremental floor | "
              "incremental 10M / 1M | nightly SQL time 10M / 1M | nightly on 1M's day 10M / 1M | its SQL time 10M / 1M |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ratio_keys = ("build_over_floor", "run_over_floor", "core_over_floor", "pandas_over_build", "pandas_over_run",
                  "polars_over_build", "polars_over_run", "polars_over_floor", "incremental_over_floor",
                  "incremental_over_incremental", "incremental_sql_over_incremental_sql", "same_day_over_incremental",
                  "same_day_sql_over_incremental_sql")
    for r in result["ratios"]:
        # a ratio whose steps did not both run is None: an empty cell, not "None"
        cells = " | ".join("" if r.get(k) is None else str(r[k]) for k in ratio_keys)
        lines.append(f"| {r['size']} | {cells} |")
    lines += ["", "## Equality with the marts", ""]
    for size, d in result["details"].items():
        for step, report in d.get("equality", {}).items():
            cells = ", ".join(f"{k} {'ok' if v['ok'] else 'MISMATCH'} ({v['mart_rows']} rows)" for k, v in report.items())
            lines.append(f"- {size} {step}: {cells}")
    lines += ["", "## Slowest dbt nodes (full build, last repetition)", ""]
    for size, d in result["details"].items():
        top = ", ".join(f"{t['node'].split('.')[-1]} {t['seconds']:.2f}s" for t in d.get("dbt_build_top_models", [])[:6])
        lines.append(f"- {size} models: {top} (dbt elapsed {d.get('dbt_build_elapsed') or 0:.1f}s, "
                     f"{d.get('dbt_build_nodes', 0)} nodes)")
        top = ", ".join(f"{t['node'].split('.')[-1]} {t['seconds']:.2f}s" for t in d.get("dbt_build_top_nodes", [])[:4])
        lines.append(f"- {size} all nodes: {top}")
        if d.get("incremental_top_nodes"):
            top = ", ".join(f"{t['node'].split('.')[-1]} {t['seconds']:.2f}s" for t in d["incremental_top_nodes"][:6])
            sql = [v for v in d.get("incremental_sql_seconds", []) if v is not None]
            lines.append(f"- {size} nightly build ({d.get('incremental_nodes', 0)} nodes; "
                         f"{'; '.join(d.get('incremental_parse', []))}; SQL statements "
                         f"{', '.join(f'{v:.2f}' for v in sql) or '-'} s summed over threads): {top}")
    lines += landing_markdown(result["details"])
    lines += scale_markdown(result)
    lines += ["", f"Status: {'PASSED' if not result['failures'] else 'FAILED'}"]
    lines += [f"- {f}" for f in result["failures"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench", description=__doc__)
    parser.add_argument("--sizes", default="1M,10M", help="events per size, comma separated (20k, 1M, 10M, ...)")
    parser.add_argument("--reps", default="3",
                        help="repetitions per step (median reported); one number, or one per size (3,1)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench_results", help="results, cached data, logs")
    parser.add_argument("--keep-work", action="store_true", help="keep the temporary warehouses under OUT/work")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help="steps to time, comma separated (default: all); ingest and dbt_build always run "
                             "when a later step needs their warehouse")
    parser.add_argument("--threads", type=int, default=None, help="dbt --threads for every dbt step (default: profile)")
    parser.add_argument("--chunk-above", default=size_label(CHUNKED_ABOVE),
                        help="sizes above this are generated in chunks and run generate/ingest/dbt_build only "
                             "(orchestration/bench/scale.py); 0 chunks every size")
    parser.add_argument("--chunk-events", default=size_label(CHUNK_EVENTS), help="target events per chunk")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    reps = [max(1, int(r)) for r in str(args.reps).split(",") if r.strip()]
    reps += [reps[-1]] * (len(sizes) - len(reps))
    steps = frozenset(s.strip() for s in args.steps.split(",") if s.strip())
    if steps - set(STEPS):
        parser.error(f"unknown steps {sorted(steps - set(STEPS))}; choose from {', '.join(STEPS)}")
    bench = Bench(out, reps[0], steps=steps)
    bench.dbt_threads, bench.keep_work = args.threads, args.keep_work
    bench.chunk_above, bench.chunk_events = parse_size(args.chunk_above), parse_size(args.chunk_events)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    git_at_start = git_state()
    def write_results() -> str:  # after every size, so a long run's finished sizes can be read meanwhile
        result = {
            "started_at": started, "git": git_at_start, "git_at_end": git_state(),
            "reps": ",".join(map(str, reps[: len(sizes)])),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                       f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                       f"{platform.python_version()}",
            "rows": bench.rows, "ratios": ratios(bench.rows), "details": bench.details, "failures": bench.failures,
            "steps": STEP_TEXT,
        }
        (out / "results.json").write_text(json.dumps(result, indent=2, default=str))
        text = markdown(result)
        (out / "results.md").write_text(text)
        return text

    for n, r in zip(sizes, reps, strict=False):
        bench.reps = r
        bench.details.setdefault(size_label(n), {})["reps"] = r
        try:
            bench.run_size(n)
        except Exception as exc:  # noqa: BLE001 - report, keep the other sizes' numbers
            bench.failures.append(f"[{size_label(n)}] {type(exc).__name__}: {exc}")
            print(f"[{size_label(n)}] FAILED: {exc}", flush=True)
        if not args.keep_work:
            shutil.rmtree(out / "work" / size_label(n), ignore_errors=True)
        write_results()
    print(write_results())
    return 1 if bench.failures else 0
