"""Scale runs (issue 15, target 4): sizes above a threshold generated in chunks, landed chunk by chunk, built.

At 10M events the one-file generation peaks at ~6.8 GB RSS (it holds every run of the window in
memory at once), so 100M cannot be generated that way. A size above ``CHUNKED_ABOVE`` (the runner's
``--chunk-above``) is instead generated as ``ceil(events / CHUNK_EVENTS)`` Parquet files:

* Chunk ``k`` is ``generate_events`` over the SAME window (days, end date) with its own seed
  (``chunk_seed(seed, k)``) and a share of ``runs_per_day`` (``split_runs``: the shares sum to the
  size's ``runs_per_day``). Run counts are Poisson per workflow and day, so the union of the chunks
  has the same distribution of runs per day as one generation with the summed rate. Every run and
  its events are in one chunk (no run is cut at a chunk boundary: chunks split runs, not time); run,
  event and exception ids are unique across chunks (each chunk's id namespace depends on its seed;
  the landing's duplicate check would quarantine a collision, and the benchmark fails on any
  quarantined row).
* Each chunk is generated in its own child process (bounded memory: one chunk's runs at a time),
  once, and cached under ``OUT/data/<size>-chunked/`` while the arguments match.
* Landing: one child process lands the register, then every chunk through the real ``land_file``
  (one ledger entry per file), timed in total; its peak RSS is the child's.
* Build: the real ``dbt build`` (every model, data test and unit test) on the landed warehouse, with
  ``--threads`` from the runner (``--threads 1`` for scale runs: at 10M one thread is 1.7x faster than
  two under the 3 GB memory limit, docs/benchmarks.md). Peak RSS covers dbt and DuckDB (one process);
  ``max_temp_bytes`` is the largest size of DuckDB's temp directory (``<warehouse>.tmp``) seen while
  it ran, polled every 0.5 s: > 0 means DuckDB spilled (allowed; failing is not).

Rows: ``generate`` (sum of the chunks' wall times; peak RSS = the largest chunk's), ``ingest`` and
``dbt_build``, each with ``chunks``; ``scale_markdown`` adds a table with the ratio of each step's
time to the same step at 10M in the same run and the per-event ratio (1.0 = linear growth).
"""
from __future__ import annotations

import json
import math
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path

#: sizes above this many events are generated in chunks (the runner's --chunk-above)
CHUNKED_ABOVE = 10_000_000
#: target events per chunk (~2 GB peak RSS while generating; the runner's --chunk-events)
CHUNK_EVENTS = 3_000_000
#: the steps a chunked size runs (the others need a single events.parquet: floors, pandas, incremental)
SCALE_STEPS = ("generate", "ingest", "dbt_build")
BASELINE = "10M"


def chunk_seed(seed: int, k: int) -> int:
    """The seed of chunk ``k`` (distinct from ``seed`` and from ``seed + 1``, the extra day's)."""
    return seed * 1_000 + k


def split_runs(runs_per_day: int, n_chunks: int) -> list[int]:
    """``runs_per_day`` shared out over ``n_chunks`` as evenly as possible (sums to ``runs_per_day``)."""
    if n_chunks < 1 or runs_per_day < n_chunks:
        raise ValueError(f"cannot split {runs_per_day} runs/day into {n_chunks} chunks of at least 1")
    base, extra = divmod(runs_per_day, n_chunks)
    return [base + (1 if k < extra else 0) for k in range(n_chunks)]


def chunk_plan(target_events: int, days: int, runs_per_day: int, seed: int,
               chunk_events: int = CHUNK_EVENTS) -> list[dict]:
    """One dict per chunk: index, seed, runs_per_day (deterministic for the arguments)."""
    n = max(1, min(runs_per_day, math.ceil(target_events / max(1, chunk_events))))
    return [{"index": k, "seed": chunk_seed(seed, k), "runs_per_day": r}
            for k, r in enumerate(split_runs(runs_per_day, n))]


def generate_chunk(*, days: int, runs_per_day: int, seed: int, end_date: date, path: Path) -> dict:
    """One chunk: the generator's events (defect_rate 0) written as Parquet; events and distinct runs."""
    import pyarrow.compute as pc

    from orchestration.lib.generator import generate_events, write_events

    table = generate_events(days=days, runs_per_day=runs_per_day, seed=seed, end_date=end_date, defect_rate=0.0,
                            fmt="parquet")
    runs = pc.count_distinct(table.column("run_id")).as_py()
    n = write_events(table, Path(path), "parquet")
    return {"events": n, "runs": runs}


# -- child steps (fresh interpreters, so the parent reads each one's peak RSS) -------------------------


def step_generate_chunk(args: dict) -> dict:
    t0 = time.perf_counter()
    out = generate_chunk(days=args["days"], runs_per_day=args["runs_per_day"], seed=args["seed"],
                         end_date=date.fromisoformat(args["end_date"]), path=Path(args["out"]))
    return {"seconds": time.perf_counter() - t0, **out}


def step_land_chunks(args: dict) -> dict:
    """Land the register, then every chunk with land_file, in order; timed in total (register excluded)."""
    from orchestration.bench.landing_bench import TempDirWatch
    from orchestration.lib.landing import land_file
    from orchestration.lib.register import land_register, load_register, register_sha256
    from orchestration.lib.warehouse import open_warehouse
    from orchestration.settings import DEV_REDACTION_SALT, get_settings

    settings = get_settings()
    register = load_register(settings.register_path)
    per_chunk, loaded, quarantined, statuses = [], 0, 0, []
    with open_warehouse(args["db"]) as con, TempDirWatch(Path(str(args["db"]) + ".tmp"), every=0.5) as watch:
        land_register(con, register, source_path=str(settings.register_path),
                      sha256=register_sha256(settings.register_path))
        t0 = time.perf_counter()
        for f in args["files"]:
            c0 = time.perf_counter()
            result = land_file(con, f, register=register, salt=DEV_REDACTION_SALT)
            per_chunk.append(round(time.perf_counter() - c0, 3))
            loaded += result.rows_loaded
            quarantined += result.rows_quarantined
            statuses.append(result.status)
        seconds = time.perf_counter() - t0
        ledger = con.execute("select count(*) from raw.load_ledger").fetchone()[0]
    return {"seconds": seconds, "rows_loaded": loaded, "rows_quarantined": quarantined, "chunk_seconds": per_chunk,
            "statuses": sorted(set(statuses)), "ledger_rows": ledger, "max_temp_bytes": watch.max_bytes}


STEPS = {"generate_chunk": step_generate_chunk, "land_chunks": step_land_chunks}


def child(bench, step: str, args: dict, log: Path):
    from orchestration.bench.runner import Measured, run_child

    result_path = log.with_suffix(".json")
    cmd = [sys.executable, "-m", "orchestration.bench.scale", step, json.dumps(args), str(result_path)]
    wall, code, rss = run_child(cmd, env=bench.env(), log=log)
    if code != 0:
        raise RuntimeError(f"step {step} failed (exit {code}); see {log}")
    result = json.loads(result_path.read_text())
    return Measured(wall, result["seconds"], rss, result)


# -- parent side --------------------------------------------------------------------------------------


class ChildCPU:
    """CPU seconds (user + system) of the children reaped inside the block: a child's whole process tree,
    dbt's DuckDB threads included. Unlike wall time it hardly depends on what else the machine runs."""

    def __enter__(self) -> ChildCPU:
        self._u0, self.seconds = resource.getrusage(resource.RUSAGE_CHILDREN), 0.0
        return self

    def __exit__(self, *exc) -> None:
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.seconds = round(u.ru_utime - self._u0.ru_utime + u.ru_stime - self._u0.ru_stime, 2)


def generate_chunks(bench, label: str, target_events: int, data: Path) -> tuple[list[Path], dict]:
    """The size's chunks, generated once (one child each) and reused while the arguments match."""
    from orchestration.bench.runner import END_DATE, SEED, plan_for

    days, rpd = plan_for(target_events)
    plan = chunk_plan(target_events, days, rpd, SEED, bench.chunk_events)
    data.mkdir(parents=True, exist_ok=True)
    meta_path = data / "meta.json"
    gen_args = {"days": days, "runs_per_day": rpd, "seed": SEED, "end_date": END_DATE.isoformat(), "chunks": plan}
    files = [data / f"events-{c['index']:03d}.parquet" for c in plan]
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    if not (meta and meta.get("args") == gen_args and all(f.exists() for f in files)):
        bench.log(f"[{label}] generating {len(plan)} chunks of {days} days x ~{plan[0]['runs_per_day']} "
                  f"runs/day/workflow (defect_rate=0) ...")
        chunks = []
        for c, f in zip(plan, files, strict=True):
            with ChildCPU() as cpu:
                m = child(bench, "generate_chunk", {"days": days, "runs_per_day": c["runs_per_day"], "seed": c["seed"],
                                                    "end_date": END_DATE.isoformat(), "out": str(f)},
                          data / f"generate-{c['index']:03d}.log")
            chunks.append({"events": m.result["events"], "runs": m.result["runs"], "wall_s": round(m.wall, 2),
                           "cpu_s": cpu.seconds, "peak_rss_mib": round(m.rss_kib / 1024, 1)})
            bench.log(f"  chunk {c['index'] + 1}/{len(plan)}: {m.result['events']:,} events in {m.wall:.1f} s "
                      f"(CPU {cpu.seconds:.1f} s), peak RSS {m.rss_kib / 1024:.0f} MiB")
        meta = {"args": gen_args, "events": sum(c["events"] for c in chunks), "runs": sum(c["runs"] for c in chunks),
                "chunks": chunks}
        meta_path.write_text(json.dumps(meta, indent=2))
    return files, meta


def run_scale_size(bench, target_events: int, keep_work: bool = False) -> None:
    """Generate (chunked, cached), land every chunk, `dbt build` once; rows generate / ingest / dbt_build."""
    from orchestration.bench.landing_bench import TempDirWatch
    from orchestration.bench.runner import Measured, size_label, top_nodes

    label = size_label(target_events)
    files, meta = generate_chunks(bench, label, target_events, bench.out / "data" / f"{label}-chunked")
    events, chunks = meta["events"], meta["chunks"]
    d = bench.details.setdefault(label, {})
    d.update({"mode": "chunked", "events": events, "runs": meta["runs"], "chunks": len(files),
              "days": meta["args"]["days"], "runs_per_day": meta["args"]["runs_per_day"],
              "dbt_threads": bench.dbt_threads, "skipped_steps": sorted(set(bench.steps) - set(SCALE_STEPS))})
    bench.log(f"[{label}] {events:,} events, {meta['runs']:,} runs in {len(files)} chunks")
    gen = Measured(sum(c["wall_s"] for c in chunks), sum(c["wall_s"] for c in chunks),
                   int(max(c["peak_rss_mib"] for c in chunks) * 1024), {})
    gen_cpu = sum(c["cpu_s"] for c in chunks) if all("cpu_s" in c for c in chunks) else None
    bench.record("generate", label, events, [gen], chunks=len(files), cpu_s=gen_cpu)

    work, logs = bench.out / "work" / label, bench.out / "logs" / label
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(logs, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "build.duckdb"
    with ChildCPU() as cpu:
        land = child(bench, "land_chunks", {"db": str(db), "files": [str(f) for f in files]}, logs / "land_chunks.log")
    r = land.result
    if r["rows_quarantined"] or r["rows_loaded"] != events or r["ledger_rows"] < len(files):
        bench.failures.append(f"[{label}] chunked landing: loaded {r['rows_loaded']:,} of {events:,}, quarantined "
                              f"{r['rows_quarantined']:,}, {r['ledger_rows']} ledger rows for {len(files)} files")
    bench.record("ingest", label, events, [land], chunks=len(files), rows_loaded=r["rows_loaded"],
                 max_temp_bytes=r["max_temp_bytes"], cpu_s=cpu.seconds)
    d["ingest_chunk_seconds"] = r["chunk_seconds"]
    d["landed_db_bytes"] = db.stat().st_size

    if "dbt_build" in bench.steps:
        target = work / "target_build"
        with TempDirWatch(Path(str(db) + ".tmp"), every=0.5) as watch, ChildCPU() as cpu:
            build = bench.dbt("build", db, target, logs / "dbt_build.log")
        rr = build.result["run_results"]
        bench.record("dbt_build", label, events, [build], chunks=len(files), max_temp_bytes=watch.max_bytes,
                     threads=bench.dbt_threads, cpu_s=cpu.seconds)
        d.update({"dbt_build_top_models": top_nodes(rr, kind="model."), "dbt_build_top_nodes": top_nodes(rr),
                  "dbt_build_nodes": len(rr.get("results", [])), "dbt_build_elapsed": rr.get("elapsed_time"),
                  "built_db_bytes": db.stat().st_size})
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)


def _per_event(value, base_value, ev_ratio) -> tuple[float | None, float | None]:
    """(value / base_value, that / ev_ratio): the growth and the growth per event (1.0 = linear)."""
    if not (value and base_value and ev_ratio):
        return None, None
    ratio = value / base_value
    return round(ratio, 2), round(ratio / ev_ratio, 2)


def scale_rows(rows: list[dict]) -> list[dict]:
    """Per step and size: seconds, CPU seconds, events/s, peak RSS and the growth against the same step at
    10M in the same run, in wall time and in CPU time, in total and per event (1.0 = linear)."""
    by = {(r["step"], r["size"]): r for r in rows}
    out = []
    for r in rows:
        if r["step"] not in SCALE_STEPS or not ("chunks" in r or r["size"] == BASELINE):
            continue
        base = by.get((r["step"], BASELINE)) or {}
        ev_ratio = r["events"] / base["events"] if base.get("events") else None
        time_ratio, per_event = _per_event(r["median_s"], base.get("median_s"), ev_ratio)
        cpu_ratio, cpu_per_event = _per_event(r.get("cpu_s"), base.get("cpu_s"), ev_ratio)
        out.append({**r, "events_vs_10M": round(ev_ratio, 2) if ev_ratio else None, "time_vs_10M": time_ratio,
                    "per_event_vs_10M": per_event, "cpu_vs_10M": cpu_ratio, "cpu_per_event_vs_10M": cpu_per_event})
    return out


def _cell(value, fmt: str = "") -> str:
    return "" if value is None else format(value, fmt)


def scale_markdown(result: dict) -> list[str]:
    rows = scale_rows(result["rows"])
    if not any("chunks" in r for r in rows):
        return []
    lines = ["", "## Scale (chunked generation; issue 15 target 4)", "",
             "Growth against the same step at 10M in this run: total and per event (per event 1.0 = linear), in "
             "wall time and in CPU time (user + system of the step's process tree; less sensitive to load).", "",
             "| step | size | events | chunks | wall s | CPU s | events/s | peak RSS MiB | DuckDB temp max MiB | "
             "wall / 10M | wall per event / 10M | CPU / 10M | CPU per event / 10M |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        temp = r.get("max_temp_bytes")
        lines.append(f"| {r['step']} | {r['size']} | {r['events']:,} | {r.get('chunks', 1)} | {r['median_s']:.1f} | "
                     f"{_cell(r.get('cpu_s'), '.1f')} | {r['events_per_s'] or 0:,} | {r['peak_rss_mib']:.0f} | "
                     f"{'' if temp is None else f'{temp / 2**20:.0f}'} | {_cell(r['time_vs_10M'])} | "
                     f"{_cell(r['per_event_vs_10M'])} | {_cell(r['cpu_vs_10M'])} | {_cell(r['cpu_per_event_vs_10M'])} |")
    for size, d in result["details"].items():
        if d.get("mode") == "chunked":
            lines.append(f"- {size}: {d['events']:,} events, {d['runs']:,} runs, {d['chunks']} chunks; landed warehouse "
                         f"{d.get('landed_db_bytes', 0) / 2**30:.2f} GiB, built {d.get('built_db_bytes', 0) / 2**30:.2f} "
                         f"GiB; dbt --threads {d.get('dbt_threads')}; {d.get('dbt_build_nodes', 0)} nodes; landing s "
                         f"per chunk {d.get('ingest_chunk_seconds')}")
    return lines


def main(argv: list[str]) -> int:
    step, args_json, result_json = argv
    result = STEPS[step](json.loads(args_json))
    Path(result_json).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
