"""Where landing's time goes: the CTAS floor and ``land_file`` of one file in the same process, every
SQL statement of the landing timed (wall and CPU seconds of the whole process, i.e. every DuckDB thread).

``python -m orchestration.bench.landing_profile FILE --work DIR [--no-floor] [--min-seconds S]``

The floor is ``CREATE TABLE AS SELECT * FROM read_parquet / read_json / read_csv`` into a fresh DuckDB
file with the warehouse's memory limit (as landing_bench.step_floor_land); the landing goes into a fresh
warehouse in DIR with the register landed first (as steps.step_ingest). On a shared machine compare the
CPU ratio of one run: wall times move with the load (docs/benchmarks.md, "Landing").
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

_READERS = {"parquet": "read_parquet", "jsonl": "read_json", "csv": "read_csv"}


class TimedConnection:
    """A DuckDB connection whose ``execute`` records (wall s, CPU s, statement) of every statement."""

    def __init__(self, con):
        self._con = con
        self.statements: list[tuple[float, float, str]] = []

    def execute(self, sql, *args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = self._con.execute(sql, *args, **kwargs)
        self.statements.append((time.perf_counter() - t0, time.process_time() - c0, " ".join(sql.split())))
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def floor(path: Path, work: Path) -> tuple[float, float]:
    """(wall s, CPU s) of the CTAS floor of ``path`` into a fresh DuckDB file."""
    import duckdb

    from orchestration.lib.landing.common import file_format_of, sql_literal
    from orchestration.lib.warehouse import memory_limit

    db = work / "floor.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    try:
        con.execute(f"set memory_limit = '{memory_limit()}'")
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute(f"create table events as select * from {_READERS[file_format_of(path)]}({sql_literal(str(path))})")
        return time.perf_counter() - t0, time.process_time() - c0
    finally:
        con.close()
        db.unlink(missing_ok=True)


def land(path: Path, work: Path):
    """(wall s, CPU s, LandingResult, statements) of land_file of ``path`` into a fresh warehouse."""
    from orchestration.lib.landing import land_file
    from orchestration.lib.register import land_register, load_register, register_sha256
    from orchestration.lib.warehouse import open_warehouse
    from orchestration.settings import DEV_REDACTION_SALT, get_settings

    db = work / "landing.duckdb"
    db.unlink(missing_ok=True)
    settings = get_settings()
    register = load_register(settings.register_path)
    with open_warehouse(db) as con:
        land_register(con, register, source_path=str(settings.register_path),
                      sha256=register_sha256(settings.register_path))
        timed = TimedConnection(con)
        t0, c0 = time.perf_counter(), time.process_time()
        result = land_file(timed, path, register=register, salt=DEV_REDACTION_SALT)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    db.unlink(missing_ok=True)
    return wall, cpu, result, timed.statements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench.landing_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--work", type=Path, required=True, help="a folder for the two DuckDB files")
    parser.add_argument("--no-floor", action="store_true", help="time the landing only")
    parser.add_argument("--min-seconds", type=float, default=0.05, help="list statements at least this long (wall)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    floor_wall = floor_cpu = None
    if not args.no_floor:
        floor_wall, floor_cpu = floor(args.file, args.work)
        print(f"floor    wall {floor_wall:8.2f} s  CPU {floor_cpu:8.2f} s")
    wall, cpu, result, statements = land(args.file, args.work)
    print(f"landing  wall {wall:8.2f} s  CPU {cpu:8.2f} s  ({result.summary})")
    if floor_wall:
        print(f"landing / floor: wall {wall / floor_wall:.2f}x, CPU {cpu / floor_cpu:.2f}x")
    print(f"{'wall s':>8} {'CPU s':>8}  statement")
    for w, c, sql in statements:
        if w >= args.min_seconds:
            print(f"{w:8.2f} {c:8.2f}  {sql[:110]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
