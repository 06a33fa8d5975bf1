"""Equality of the floor / pandas outputs with the project's marts on the benchmark data.

Each output is compared to its mart on the same grain (full outer join on the keys): rows on one
side only, and values that differ (floats: relative 1e-9 or absolute 1e-6; everything else exactly)
are mismatches. The marts' zero-filled spine rows (no activity) are left out of the comparison.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

# output -> (mart query, keys, {column: type}); types cast both sides (pandas writes ns timestamps)
SPECS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "runs": (
        "select * from wh.marts.fct_workflow_runs",
        ["workflow_id", "run_id"],
        {"region": "varchar", "started_at": "timestamp", "ended_at": "timestamp", "final_status": "varchar",
         "cycle_time_seconds": "double", "exception_count": "bigint"},
    ),
    "weekly": (
        "select * from wh.marts.agg_workflow_weekly where runs_started > 0 or runs_completed > 0",
        ["workflow_id", "region", "week_start"],
        {"runs_started": "bigint", "runs_completed": "bigint", "cycle_time_p50_seconds": "double",
         "cycle_time_p90_seconds": "double"},
    ),
    "exception_ttr": (
        "select * from wh.marts.agg_exception_aging_weekly where exceptions_resolved > 0",
        ["workflow_id", "exception_class", "week_start"],
        {"exceptions_resolved": "bigint", "time_to_resolution_p50_seconds": "double",
         "time_to_resolution_p90_seconds": "double"},
    ),
    "monthly": (
        "select * from wh.marts.agg_exception_budget_monthly where runs_started > 0",
        ["workflow_id", "month_start"],
        {"runs_started": "bigint", "runs_with_exceptions": "bigint", "exception_rate_pct": "double"},
    ),
}
KEY_TYPES = {"week_start": "date", "month_start": "date"}


def _differs(column: str, typ: str) -> str:
    a, b = f"o.{column}", f"m.{column}"
    if typ == "double":
        return f"((({a}) is null) <> (({b}) is null) or abs({a} - {b}) > greatest(1e-6, 1e-9 * abs({b})))"
    return f"({a} is distinct from {b})"


def compare_outputs(warehouse: Path, outputs_dir: Path) -> dict[str, dict]:
    """{output: {mart_rows, other_rows, only_mart, only_other, value_mismatches, ok, example}}."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{str(warehouse).replace(chr(39), chr(39) * 2)}' as wh (read_only)")
    report: dict[str, dict] = {}
    try:
        for name, (mart_sql, keys, values) in SPECS.items():
            path = str(outputs_dir / f"{name}.parquet").replace("'", "''")
            cols = [f"cast({k} as {KEY_TYPES.get(k, 'varchar')}) as {k}" for k in keys]
            cols += [f"cast({c} as {t}) as {c}" for c, t in values.items()]
            select = ", ".join(cols)
            join = " and ".join(f"o.{k} = m.{k}" for k in keys)
            differs = " or ".join(_differs(c, t) for c, t in values.items())
            sql = f"""
                with m as (select {select} from ({mart_sql})),
                o as (select {select} from read_parquet('{path}')),
                j as (
                    select o.{keys[0]} is null as only_mart, m.{keys[0]} is null as only_other,
                           ({differs}) as differs, coalesce(o.{keys[0]}, m.{keys[0]}) as k0,
                           {", ".join(f"coalesce(cast(o.{k} as varchar), cast(m.{k} as varchar)) as key_{k}" for k in keys)}
                    from o full outer join m on {join}
                )
                select (select count(*) from m), (select count(*) from o),
                       count(*) filter (where only_mart), count(*) filter (where only_other),
                       count(*) filter (where not only_mart and not only_other and differs),
                       min({" || '|' || ".join(f"key_{k}" for k in keys)}) filter (where only_mart or only_other or differs)
                from j
            """
            mart_rows, other_rows, only_mart, only_other, mismatches, example = con.execute(sql).fetchone()
            report[name] = {
                "mart_rows": mart_rows, "other_rows": other_rows, "only_mart": only_mart, "only_other": only_other,
                "value_mismatches": mismatches, "example_key": example,
                "ok": only_mart == 0 and only_other == 0 and mismatches == 0 and mart_rows > 0,
            }
    finally:
        con.close()
    return report
