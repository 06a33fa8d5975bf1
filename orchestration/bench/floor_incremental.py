"""The incremental floor (issue 15, target 3): the floor's outputs brought up to date after one more day.

Set-up, not timed: one in-memory DuckDB holds the history's events (typed, from the Parquet) and the
floor's four outputs over them (floor.sql), plus the per-exception state. Timed: floor_incremental.sql,
which appends the day and recomputes only what the day touches. With ``check``, the result is compared
with floor.sql run over history + day (the same four outputs, every row): the floor is only a floor if it
is right.
"""
from __future__ import annotations

import time
from pathlib import Path

HERE = Path(__file__).parent
OUTPUTS = ("runs", "weekly", "exception_ttr", "monthly")
KEYS = {"runs": "workflow_id, run_id", "weekly": "workflow_id, region, week_start",
        "exception_ttr": "workflow_id, exception_class, week_start", "monthly": "workflow_id, month_start"}

SETUP = """
set TimeZone = 'UTC';
create temp table events as
select
    workflow_id, run_id, event_id, event_type, region, exception_id, exception_class,
    timezone('UTC', cast(replace(trim(event_ts), 'z', 'Z') as timestamptz)) as ts
from read_parquet('{events}');
create temp table floor_exceptions as
select
    exception_id,
    arg_min(workflow_id, (event_type <> 'exception_raised', ts, event_id)) as workflow_id,
    coalesce(arg_min(exception_class, (event_type <> 'exception_raised', ts, event_id)), min(exception_class))
        as exception_class,
    coalesce(min(ts) filter (where event_type = 'exception_raised'), min(ts)) as raised_at,
    min(ts) filter (where event_type = 'exception_resolved') as resolved_at
from events
where exception_id is not null
    and event_type in ('exception_raised', 'exception_acknowledged', 'exception_resolved')
group by exception_id;
"""


def _sql_path(path: str | Path) -> str:
    return str(path).replace("'", "''")


def run(events: str, day: str, check: bool = False) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(SETUP.replace("{events}", _sql_path(events)))
    con.execute((HERE / "floor.sql").read_text().replace("{events}", _sql_path(events)))
    t0 = time.perf_counter()
    con.execute((HERE / "floor_incremental.sql").read_text().replace("{day}", _sql_path(day)))
    seconds = time.perf_counter() - t0
    result: dict = {"seconds": seconds}
    if check:
        result["mismatches"] = compare_with_full(con, events, day)
    return result


def compare_with_full(con, events: str, day: str) -> dict:
    """Rows differing between the incremental outputs and floor.sql over history + day (0 each = equal)."""
    both = f"[{', '.join(repr(_sql_path(p)) for p in (events, day))}]"
    full = (HERE / "floor.sql").read_text().replace("'{events}'", both)
    full = full.replace("create temp table floor_", "create temp table full_").replace("from floor_runs", "from full_runs")
    con.execute(full)
    out = {}
    for name in OUTPUTS:
        (n,) = con.execute(
            f"select count(*) from ((select * from floor_{name} except all select * from full_{name}) "
            f"union all (select * from full_{name} except all select * from floor_{name}))"
        ).fetchone()
        out[name] = n
    return out
