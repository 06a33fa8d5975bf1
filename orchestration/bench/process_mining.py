"""Benchmark: the process-mining marts (variants + directly-follows) against a hand-written DuckDB
query computing the same, and against pm4py on the same events.

    .venv/bin/python -m orchestration.bench.process_mining --events 1000000 [--work DIR] [--reps 3]

Data: the benchmark's telemetry (generate_events, seed and window of orchestration/bench/runner.py,
defect_rate 0; cached in WORK/data). Steps, each in a child process (peak RSS its own):
- ``dbt``: ``dbt run`` of the four models that make variants and the directly-follows graph
  (int_case_events_sequenced, fct_case_variants, agg_variants, agg_directly_follows_weekly), full
  refresh, ``--threads 1`` (one model at a time, each with all of DuckDB's threads), on a warehouse
  where everything upstream is built; reported: the wall time of the process (dbt start-up and parse
  included) and the sum of the four models' own execution times (run_results.json), the
  like-for-like number; then, in a second dbt run outside the sum, fct_activity_durations;
- ``hand``: one in-process DuckDB script (``HAND_SQL``) from raw.workflow_events to the same two
  outputs (per-workflow variants with cases and p50/p90 duration; weekly edges with count and p50/p90
  transition time), on a copy of the same warehouse;
- ``pm4py``: the events (case = workflow_id/run_id, activity, timestamp, in the warehouse's total
  order; read with DuckDB, not timed) through pm4py: format_dataframe, case durations, the
  lifecycle-complete filter, get_variants, discover_dfg (timed: ``seconds``, the number the target
  compares - less than the marts compute, no quantiles); then discover_performance_dfg (the edges'
  transition times, which the marts' p50/p90 correspond to), timed apart
  (``seconds_performance_dfg``).
Contention: the machine may be shared. The result records the load average before and after and
the CPU seconds of the hand and pm4py children (their own process; dbt's CPU would include its
start-up), so a ratio can be judged; the target's ratios use wall seconds measured in the same run.
The outputs are compared: hand vs marts exactly (counts) and within 1e-6 (seconds); pm4py's variant
and edge counts vs the marts summed over workflows and weeks. Prints one JSON object.
docs/benchmarks.md ("Process mining") has the results.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from orchestration.bench.runner import END_DATE, SEED, plan_for, run_child
from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

PM_MODELS = ("int_case_events_sequenced", "fct_case_variants", "agg_variants", "agg_directly_follows_weekly")
#: Built in the same dbt run, reported per model but outside the target's sum (not in HAND_SQL).
EXTRA_MODELS = ("fct_activity_durations",)

#: The same definitions as the marts (doc blocks pm_activity, pm_lifecycle, pm_event_order,
#: pm_variant, pm_directly_follows), written by hand as directly as DuckDB allows.
HAND_SQL = """
create or replace temp table hand_events as
select
    workflow_id, run_id, event_ts,
    case when log_format = 'telemetry' then
            case when event_type in ('stage_started', 'stage_completed') then coalesce(stage, event_type) else event_type end
        else coalesce(source_event_name, stage, event_type) end as activity,
    case when log_format = 'telemetry' then (event_type <> 'stage_started')
        else coalesce(lower(json_extract_string(attributes, '$."lifecycle:transition"')), 'complete') = 'complete'
    end as is_complete,
    row_number() over (partition by workflow_id, run_id
                       order by event_ts, loaded_at, load_id, source_row_number, event_id) as seq
from raw.workflow_events;

create or replace temp table hand_instances as
select
    workflow_id, run_id, activity, event_ts,
    lag(activity) over w as prev_activity,
    lag(event_ts) over w as prev_ts,
    row_number() over w as aseq,
    count(*) over (partition by workflow_id, run_id) as n
from hand_events
where is_complete
window w as (partition by workflow_id, run_id order by seq);

create or replace table hand_variants as
with spans as (
    select workflow_id, run_id, epoch_us(max(event_ts)) / 1e6 - epoch_us(min(event_ts)) / 1e6 as duration_s
    from hand_events group by all
),
cases as (
    select workflow_id, run_id, string_agg(activity, ' > ' order by aseq) as variant
    from hand_instances group by all
)
select
    spans.workflow_id, md5(coalesce(variant, '')) as variant_hash, count(*) as cases,
    quantile_cont(duration_s, 0.5) as p50_s, quantile_cont(duration_s, 0.9) as p90_s
from spans left join cases using (workflow_id, run_id)
group by all;

create or replace table hand_dfg as
with edges as (
    select workflow_id, run_id, date_trunc('week', event_ts)::date as week_start, prev_activity as a, activity as b,
           epoch_us(event_ts) / 1e6 - epoch_us(prev_ts) / 1e6 as t
    from hand_instances where aseq > 1
    union all
    select workflow_id, run_id, date_trunc('week', event_ts)::date, '▶', activity, null from hand_instances where aseq = 1
    union all
    select workflow_id, run_id, date_trunc('week', event_ts)::date, activity, '■', null from hand_instances where aseq = n
)
select workflow_id, week_start, a, b, count(*) as edge_count, quantile_cont(t, 0.5) as p50_s,
       quantile_cont(t, 0.9) as p90_s
from edges group by all;
"""

COMPARE_SQL = {
    "variants": """
        select count(*) from hand_variants h full outer join m.marts.agg_variants v
            on h.workflow_id = v.workflow_id and h.variant_hash = v.variant_hash
        where h.cases is distinct from v.cases
           or abs(h.p50_s - v.p50_case_duration_seconds) > 1e-6 or abs(h.p90_s - v.p90_case_duration_seconds) > 1e-6
           or h.workflow_id is null or v.workflow_id is null""",
    "dfg": """
        select count(*) from hand_dfg h full outer join m.marts.agg_directly_follows_weekly d
            on h.workflow_id = d.workflow_id and h.week_start = d.week_start and h.a = d.from_activity
            and h.b = d.to_activity
        where h.edge_count is distinct from d.edge_count
           or abs(coalesce(h.p50_s, 0) - coalesce(d.p50_transition_seconds, 0)) > 1e-6
           or abs(coalesce(h.p90_s, 0) - coalesce(d.p90_transition_seconds, 0)) > 1e-6
           or h.workflow_id is null or d.workflow_id is null""",
}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


# -- child side -------------------------------------------------------------------------------------

def child_generate(args: dict) -> dict:
    from datetime import date

    from orchestration.lib.generator import generate_events, write_events

    window = generate_events(days=args["days"], runs_per_day=args["runs_per_day"], seed=SEED,
                             end_date=date.fromisoformat(args["end_date"]), defect_rate=0.0, fmt="parquet")
    return {"events": write_events(window, Path(args["events"]), "parquet")}


def child_hand(args: dict) -> dict:
    import duckdb

    con = duckdb.connect(args["db"])
    started, cpu = time.perf_counter(), time.process_time()
    con.execute(HAND_SQL)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    con.execute(f"attach '{_sql_path(Path(args['marts_db']))}' as m (read_only)")
    mismatches = {name: con.execute(sql).fetchone()[0] for name, sql in COMPARE_SQL.items()}
    rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("hand_variants", "hand_dfg")}
    return {"seconds": seconds, "cpu_s": cpu, "mismatches": mismatches, "rows": rows}


def child_pm4py(args: dict) -> dict:
    import duckdb
    import pm4py
    from pm4py.statistics.traces.generic.pandas import case_statistics

    with duckdb.connect(args["marts_db"], read_only=True) as con:
        df = con.execute("""
            select workflow_id || '/' || run_id as case_id, activity, event_ts as ts, is_activity_instance
            from intermediate.int_case_events_sequenced order by workflow_id, run_id, event_seq""").df()
        mart_variants = dict(con.execute(
            "select variant, sum(cases)::bigint from marts.agg_variants group by 1").fetchall())
        mart_edges = dict(con.execute(
            "select from_activity || ' -> ' || to_activity, sum(edge_count)::bigint "
            "from marts.agg_directly_follows_weekly where edge_kind = 'transition' group by 1").fetchall())
    df["ts"] = df["ts"].dt.tz_localize("UTC")
    started, cpu = time.perf_counter(), time.process_time()
    log = pm4py.format_dataframe(df[["case_id", "activity", "ts"]], case_id="case_id", activity_key="activity",
                                 timestamp_key="ts")
    durations = case_statistics.get_cases_description(log)
    complete = pm4py.format_dataframe(df.loc[df["is_activity_instance"], ["case_id", "activity", "ts"]],
                                      case_id="case_id", activity_key="activity", timestamp_key="ts")
    variants = pm4py.get_variants(complete)
    dfg, _starts, _ends = pm4py.discover_dfg(complete)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    performance, _starts, _ends = pm4py.discover_performance_dfg(complete)
    seconds_performance = time.perf_counter() - started
    ours = {" > ".join(k): (v if isinstance(v, int) else len(v)) for k, v in variants.items()}
    edges = {f"{a} -> {b}": n for (a, b), n in dfg.items()}
    return {"seconds": seconds, "cpu_s": cpu, "seconds_performance_dfg": seconds_performance,
            "performance_edges": len(performance), "cases": len(durations), "variants": len(ours),
            "variant_counts_equal": ours == mart_variants, "edge_counts_equal": edges == mart_edges}


def child_ingest(args: dict) -> dict:
    from orchestration.bench.steps import step_ingest

    return step_ingest(args)


CHILDREN = {"generate": child_generate, "hand": child_hand, "pm4py": child_pm4py, "ingest": child_ingest}


# -- parent side ------------------------------------------------------------------------------------

def _env(db: Path, target: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_") and k != "COMMAND_CENTER_REGISTER"}
    env.update(TELEMETRY_OFF)
    env.update({"COMMAND_CENTER_DBT_TARGET": "duckdb", "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
                "COMMAND_CENTER_DUCKDB": str(db), "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target / "logs"),
                "COMMAND_CENTER_FRESHNESS_AS_OF": (END_DATE + timedelta(days=1)).isoformat() + " 00:00:00"})
    return env


def _child(step: str, args: dict, work: Path) -> tuple[dict, float, int]:
    out = work / f"{step}.json"
    log = work / f"{step}.log"
    wall, code, rss = run_child([sys.executable, "-m", "orchestration.bench.process_mining", "--child", step,
                                 json.dumps(args), str(out)], log=log)
    if code != 0:
        raise RuntimeError(f"{step} failed (exit {code}); see {log}")
    return json.loads(out.read_text()), wall, rss


def _dbt_run(db: Path, target: Path, select: list[str], work: Path, extra: tuple[str, ...] = ()) -> dict:
    from orchestration.lib.dbt import dbt_executable

    cmd = [dbt_executable(), "run", "--project-dir", str(REPO_ROOT), "--target", "duckdb", "--select", *select, *extra]
    wall, code, rss = run_child(cmd, env=_env(db, target), log=work / f"dbt_{target.name}.log")
    if code != 0:
        raise RuntimeError(f"dbt run failed (exit {code}); see {work / f'dbt_{target.name}.log'}")
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}
    return {"wall": wall, "rss_mib": rss / 1024, "models": models}


def run(events_target: int, work: Path, reps: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    days, rpd = plan_for(events_target)
    data = work / f"events_{events_target}.parquet"
    if not data.exists():
        _child("generate", {"days": days, "runs_per_day": rpd, "end_date": END_DATE.isoformat(),
                            "events": str(data)}, work)
    landed = work / "landed.duckdb"
    landed.unlink(missing_ok=True)
    ingest, _, _ = _child("ingest", {"db": str(landed), "file": str(data)}, work)
    # everything upstream of the process-mining models, built once (not timed)
    built = work / "built.duckdb"
    shutil.copyfile(landed, built)
    _dbt_run(built, work / "target_setup", [f"+{m}" for m in PM_MODELS], work)
    result: dict = {"events": ingest["rows_loaded"], "reps": reps, "cpus": os.cpu_count(),
                    "load_average_before": os.getloadavg(), "dbt": [], "hand": [], "pm4py": []}
    for i in range(reps):
        # one dbt thread: the models run one after another, each with all of DuckDB's threads, so the
        # sum of their execution times is the time they took (two dbt threads would overlap two
        # models on the same cores and count the shared time twice)
        d = _dbt_run(built, work / f"target_pm_{i}", list(PM_MODELS), work, ("--full-refresh", "--threads", "1"))
        extra = _dbt_run(built, work / f"target_pm_extra_{i}", list(EXTRA_MODELS), work, ("--full-refresh", "--threads", "1"))
        result["dbt"].append({"wall": d["wall"], "models_s": sum(d["models"][m] for m in PM_MODELS),
                              "per_model": {**d["models"], **{m: extra["models"][m] for m in EXTRA_MODELS}},
                              "rss_mib": d["rss_mib"], "load_average": os.getloadavg()})
        copy = work / "hand.duckdb"
        shutil.copyfile(landed, copy)
        h, _, rss = _child("hand", {"db": str(copy), "marts_db": str(built)}, work)
        result["hand"].append({**h, "rss_mib": rss / 1024})
        copy.unlink()
        p, _, rss = _child("pm4py", {"marts_db": str(built)}, work)
        result["pm4py"].append({**p, "rss_mib": rss / 1024})
    med = {k: statistics.median(x["models_s"] if k == "dbt" else x["seconds"] for x in result[k])
           for k in ("dbt", "hand", "pm4py")}
    result["median_s"] = {"dbt_models": med["dbt"], "dbt_wall": statistics.median(x["wall"] for x in result["dbt"]),
                          "hand": med["hand"], "pm4py": med["pm4py"],
                          "pm4py_with_performance_dfg": statistics.median(
                              x["seconds"] + x["seconds_performance_dfg"] for x in result["pm4py"]),
                          "hand_cpu": statistics.median(x["cpu_s"] for x in result["hand"]),
                          "pm4py_cpu": statistics.median(x["cpu_s"] for x in result["pm4py"])}
    result["ratios"] = {"dbt_models_over_hand": med["dbt"] / med["hand"], "pm4py_over_dbt_models": med["pm4py"] / med["dbt"]}
    result["targets_met"] = {"within_3x_of_hand": result["ratios"]["dbt_models_over_hand"] <= 3.0,
                             "faster_than_pm4py": med["dbt"] < med["pm4py"]}
    result["load_average_after"] = os.getloadavg()
    result["equal"] = {"hand_vs_marts": all(not any(h["mismatches"].values()) for h in result["hand"]),
                       "pm4py_vs_marts": all(p["variant_counts_equal"] and p["edge_counts_equal"] for p in result["pm4py"])}
    result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True,
                                      cwd=REPO_ROOT).stdout.strip()
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        step, args, out = argv[1], json.loads(argv[2]), Path(argv[3])
        out.write_text(json.dumps(CHILDREN[step](args)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench.process_mining")
    parser.add_argument("--events", type=int, default=1_000_000, help="about this many telemetry events")
    parser.add_argument("--work", default="bench_results/process_mining", help="work folder (data cached there)")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    result = run(args.events, Path(args.work), args.reps)
    print(json.dumps(result, indent=2, default=str))
    return 0 if all(result["equal"].values()) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
