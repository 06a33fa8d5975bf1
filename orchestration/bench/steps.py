"""Child-process side of the benchmark: `python -m orchestration.bench.steps STEP ARGS_JSON RESULT_JSON`.

Each step runs in a fresh interpreter so the parent can read its peak RSS (os.wait4); the step
times its own work (after imports) and writes {"seconds": ..., ...} to RESULT_JSON.
"""
from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

FLOOR_SQL = Path(__file__).with_name("floor.sql")
OUTPUTS = ("runs", "weekly", "exception_ttr", "monthly")


def sql_path(path: str | Path) -> str:
    return str(path).replace("'", "''")


def step_generate(args: dict) -> dict:
    from orchestration.lib.generator import generate_events, write_events

    end = date.fromisoformat(args["end_date"])
    t0 = time.perf_counter()
    window = generate_events(days=args["days"], runs_per_day=args["runs_per_day"], seed=args["seed"], end_date=end,
                             defect_rate=0.0, fmt="parquet")
    n = write_events(window, Path(args["events"]), "parquet")
    del window
    # one more day after the window: new runs (another seed), landed before the incremental build
    day = generate_events(days=1, runs_per_day=args["runs_per_day"], seed=args["seed"] + 1,
                          end_date=end + timedelta(days=1), defect_rate=0.0, fmt="parquet")
    n_day = write_events(day, Path(args["day_events"]), "parquet")
    return {"seconds": time.perf_counter() - t0, "events": n, "day_events": n_day}


def step_ingest(args: dict) -> dict:
    """Land the register, then time land_file of one Parquet file into the warehouse."""
    from orchestration.lib.landing import land_file
    from orchestration.lib.register import land_register, load_register, register_sha256
    from orchestration.lib.warehouse import open_warehouse
    from orchestration.settings import DEV_REDACTION_SALT, get_settings

    settings = get_settings()
    register = load_register(settings.register_path)
    with open_warehouse(args["db"]) as con:
        if args.get("register", True):
            land_register(con, register, source_path=str(settings.register_path),
                          sha256=register_sha256(settings.register_path))
        t0 = time.perf_counter()
        result = land_file(con, args["file"], register=register, salt=DEV_REDACTION_SALT)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows_loaded": result.rows_loaded, "rows_quarantined": result.rows_quarantined,
            "status": result.status}


def step_floor(args: dict) -> dict:
    import duckdb

    sql = FLOOR_SQL.read_text().replace("{events}", sql_path(args["events"]))
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(sql)
    seconds = time.perf_counter() - t0
    counts = {}
    if args.get("out_dir"):
        out = Path(args["out_dir"])
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            con.execute(f"copy floor_{name} to '{sql_path(out / (name + '.parquet'))}' (format parquet)")
    for name in OUTPUTS:
        counts[name] = con.execute(f"select count(*) from floor_{name}").fetchone()[0]
    return {"seconds": seconds, "rows": counts}


def step_pandas(args: dict) -> dict:
    from orchestration.bench.pandas_impl import compute

    t0 = time.perf_counter()
    frames = compute(args["events"])
    seconds = time.perf_counter() - t0
    if args.get("out_dir"):
        out = Path(args["out_dir"])
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.to_parquet(out / f"{name}.parquet", index=False)
    return {"seconds": seconds, "rows": {k: len(v) for k, v in frames.items()}}


def step_polars(args: dict) -> dict:
    from orchestration.bench.polars_impl import compute

    t0 = time.perf_counter()
    frames = compute(args["events"])
    seconds = time.perf_counter() - t0
    if args.get("out_dir"):
        out = Path(args["out_dir"])
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.write_parquet(out / f"{name}.parquet")
    return {"seconds": seconds, "rows": {k: v.height for k, v in frames.items()}}


def step_explain(args: dict) -> dict:
    """EXPLAIN ANALYZE of one model's compiled SQL on a built warehouse (read-only)."""
    import duckdb

    con = duckdb.connect(args["db"], read_only=True)
    con.execute("set TimeZone = 'UTC'")
    t0 = time.perf_counter()
    plan = con.execute("explain analyze " + Path(args["sql_file"]).read_text()).fetchall()
    text = "\n".join(str(row[-1]) for row in plan)
    Path(args["out"]).write_text(text)
    return {"seconds": time.perf_counter() - t0}


def step_floor_incremental(args: dict) -> dict:
    from orchestration.bench.floor_incremental import run

    return run(args["events"], args["day"], check=args.get("check", False))


STEPS = {"generate": step_generate, "ingest": step_ingest, "floor": step_floor, "pandas": step_pandas, "polars": step_polars,
         "explain": step_explain, "floor_incremental": step_floor_incremental}


def main(argv: list[str]) -> int:
    step, args_json, result_json = argv
    result = STEPS[step](json.loads(args_json))
    Path(result_json).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
