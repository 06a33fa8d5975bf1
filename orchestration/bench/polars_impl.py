"""The benchmark's core outputs in polars, written the way a polars user would: one lazy query plan from
`scan_parquet` (projection pushed into the reader), expressions inside `group_by().agg()`, the four outputs
collected together by `collect_all` so the shared per-run aggregation is computed once (common sub-plan
elimination), on the streaming engine.

Same rules and output columns as floor.sql and pandas_impl.py (the marts' definitions,
models/marts/runs/_runs__docs.md, _exceptions__docs.md, _governance__docs.md):
- timestamps: ISO 8601 text; an offset (`+01:00`, `Z`, `z`) is honoured, text without one is UTC (as DuckDB's
  cast to timestamptz under TimeZone UTC and pandas' `to_datetime(utc=True)`); kept as naive UTC microseconds;
- a run starts at its earliest `run_started` (else its earliest event), which also gives its region (ties: the
  smaller event_id); its earliest terminal event (`run_completed`, `run_failed`, `run_compensated`; ties: the
  smaller event_id) ends it; a failure with a compensation in the run ends as compensated;
- weeks are ISO weeks (Monday 00:00 UTC), months calendar months in UTC;
- p50 / p90: linear interpolation between the closest ranks (DuckDB quantile_cont, numpy's default);
- an exception is raised at its earliest `exception_raised` (else its earliest exception event), belongs to that
  event's workflow and class (else the smallest class seen, else UNKNOWN) and is resolved at its earliest
  `exception_resolved`.
"""
from __future__ import annotations

import polars as pl

TERMINAL = ("run_completed", "run_failed", "run_compensated")
EXCEPTION_EVENTS = ("exception_raised", "exception_acknowledged", "exception_resolved")
COLUMNS = ["event_id", "workflow_id", "run_id", "event_type", "event_ts", "region", "exception_id", "exception_class"]
#: an ISO 8601 timestamp that states its offset
HAS_OFFSET = r"(?:[+-]\d\d:?\d\d|[zZ])$"


def _utc(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text -> naive UTC datetime (microseconds); text without an offset is UTC."""
    text = text.str.strip_chars()
    with_offset = pl.when(text.str.contains(HAS_OFFSET)).then(text.str.replace(r"[zZ]$", "+00:00")).otherwise(
        text + "+00:00")
    return (with_offset.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone="UTC")
            .dt.replace_time_zone(None))


def _seconds(start: str, end: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / 1_000_000.0


def _quantiles(column: pl.Expr, prefix: str) -> list[pl.Expr]:
    return [column.quantile(0.5, interpolation="linear").alias(f"{prefix}_p50_seconds"),
            column.quantile(0.9, interpolation="linear").alias(f"{prefix}_p90_seconds")]


def _first(column: str, *order: str | pl.Expr) -> pl.Expr:
    """The column's value on the group's first row by `order` (the SQL arg_min by a tuple)."""
    return pl.col(column).sort_by(list(order)).first()


def runs_plan(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (workflow_id, run_id): start, end, final status, cycle time, exceptions raised."""
    event_type = pl.col("event_type")
    is_terminal = event_type.is_in(TERMINAL)
    terminal_type = event_type.filter(is_terminal).sort_by(pl.col("ts").filter(is_terminal),
                                                           pl.col("event_id").filter(is_terminal)).first()
    runs = events.group_by("workflow_id", "run_id").agg(
        _first("region", event_type != "run_started", "ts", "event_id").alias("region"),
        pl.coalesce(pl.col("ts").filter(event_type == "run_started").min(), pl.col("ts").min()).alias("started_at"),
        pl.col("ts").filter(is_terminal).min().alias("ended_at"),
        terminal_type.alias("terminal_type"),
        (event_type == "run_compensated").any().alias("has_compensation"),
        pl.col("exception_id").filter(event_type == "exception_raised").drop_nulls().n_unique()
        .cast(pl.Int64).alias("exception_count"),
    )
    terminal = pl.col("terminal_type")
    final_status = (
        pl.when(terminal == "run_completed").then(pl.lit("completed"))
        .when((terminal == "run_failed") & pl.col("has_compensation")).then(pl.lit("compensated"))
        .when(terminal == "run_failed").then(pl.lit("failed"))
        .when(terminal == "run_compensated").then(pl.lit("compensated"))
        .otherwise(pl.lit("in_flight"))
    )
    return runs.select(
        "workflow_id", "run_id", "region", "started_at", "ended_at", final_status.alias("final_status"),
        _seconds("started_at", "ended_at").alias("cycle_time_seconds"), "exception_count",
    )


def weekly_plan(runs: pl.LazyFrame) -> pl.LazyFrame:
    """Per workflow x region x ISO week: runs started (week started), runs completed and p50/p90 cycle time of
    completed runs (week ended)."""
    keys = ["workflow_id", "region", "week_start"]
    started = runs.group_by(
        "workflow_id", "region", pl.col("started_at").dt.truncate("1w").dt.date().alias("week_start"),
    ).agg(pl.len().cast(pl.Int64).alias("runs_started"))
    completed = runs.filter(pl.col("final_status") == "completed").group_by(
        "workflow_id", "region", pl.col("ended_at").dt.truncate("1w").dt.date().alias("week_start"),
    ).agg(pl.len().cast(pl.Int64).alias("runs_completed"), *_quantiles(pl.col("cycle_time_seconds"), "cycle_time"))
    return started.join(completed, on=keys, how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("runs_started", "runs_completed").fill_null(0),
    ).select(*keys, "runs_started", "runs_completed", "cycle_time_p50_seconds", "cycle_time_p90_seconds")


def exception_ttr_plan(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per workflow x exception class x ISO week resolved: exceptions resolved, p50/p90 time to resolution."""
    event_type = pl.col("event_type")
    order = (event_type != "exception_raised", "ts", "event_id")
    per_exception = events.filter(
        pl.col("exception_id").is_not_null() & event_type.is_in(EXCEPTION_EVENTS),
    ).group_by("exception_id").agg(
        _first("workflow_id", *order).alias("workflow_id"),
        pl.coalesce(_first("exception_class", *order), pl.col("exception_class").min(), pl.lit("UNKNOWN"))
        .alias("exception_class"),
        pl.coalesce(pl.col("ts").filter(event_type == "exception_raised").min(), pl.col("ts").min()).alias("raised_at"),
        pl.col("ts").filter(event_type == "exception_resolved").min().alias("resolved_at"),
    ).filter(pl.col("resolved_at").is_not_null())
    return per_exception.group_by(
        "workflow_id", "exception_class", pl.col("resolved_at").dt.truncate("1w").dt.date().alias("week_start"),
    ).agg(
        pl.len().cast(pl.Int64).alias("exceptions_resolved"),
        *_quantiles(_seconds("raised_at", "resolved_at"), "time_to_resolution"),
    )


def monthly_plan(runs: pl.LazyFrame) -> pl.LazyFrame:
    """Per workflow x calendar month started: runs started, runs that raised an exception, their share in %."""
    return runs.group_by(
        "workflow_id", pl.col("started_at").dt.truncate("1mo").dt.date().alias("month_start"),
    ).agg(
        pl.len().cast(pl.Int64).alias("runs_started"),
        (pl.col("exception_count") > 0).sum().cast(pl.Int64).alias("runs_with_exceptions"),
    ).with_columns(
        (100.0 * pl.col("runs_with_exceptions") / pl.col("runs_started")).round(6).alias("exception_rate_pct"),
    )


def plans(events_path: str) -> dict[str, pl.LazyFrame]:
    events = pl.scan_parquet(events_path).select(COLUMNS).with_columns(_utc(pl.col("event_ts")).alias("ts")).drop(
        "event_ts")
    runs = runs_plan(events)
    return {"runs": runs, "weekly": weekly_plan(runs), "exception_ttr": exception_ttr_plan(events),
            "monthly": monthly_plan(runs)}


def compute(events_path: str, engine: str = "streaming") -> dict[str, pl.DataFrame]:
    """The four outputs (runs, weekly, exception_ttr, monthly), computed in one collect_all."""
    lazy = plans(events_path)
    frames = pl.collect_all(list(lazy.values()), engine=engine)
    return dict(zip(lazy, frames, strict=True))
