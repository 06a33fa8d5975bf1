"""The obvious pandas implementation of the benchmark's core outputs (what an analyst would write):
read the Parquet, parse timestamps, groupby, quantile (linear interpolation, numpy's default and
DuckDB's quantile_cont). Same rules and output columns as floor.sql."""
from __future__ import annotations

import pandas as pd

TERMINAL = ("run_completed", "run_failed", "run_compensated")
KEYS = ["workflow_id", "run_id"]


def _quantiles(grouped, column: str, prefix: str) -> pd.DataFrame:
    return pd.DataFrame({
        f"{prefix}_p50_seconds": grouped[column].quantile(0.5),
        f"{prefix}_p90_seconds": grouped[column].quantile(0.9),
    })


def compute(events_path: str) -> dict[str, pd.DataFrame]:
    df = pd.read_parquet(
        events_path,
        columns=["event_id", "workflow_id", "run_id", "event_type", "event_ts", "region", "exception_id", "exception_class"],
    )
    df["ts"] = pd.to_datetime(df["event_ts"], utc=True, format="ISO8601").dt.tz_localize(None)
    df = df.drop(columns="event_ts")

    # per-run facts
    df["not_start"] = df["event_type"] != "run_started"
    anchor = df.sort_values(["not_start", "ts", "event_id"]).drop_duplicates(KEYS).set_index(KEYS)[["region", "ts"]]
    runs = anchor.rename(columns={"ts": "started_at"})
    terminal = df[df["event_type"].isin(TERMINAL)].sort_values(["ts", "event_id"]).drop_duplicates(KEYS).set_index(KEYS)
    runs["ended_at"] = terminal["ts"]
    runs["terminal_type"] = terminal["event_type"]
    compensated = df[df["event_type"] == "run_compensated"].groupby(KEYS).size()
    runs["has_compensation"] = runs.index.isin(compensated.index)
    raised = df[df["event_type"] == "exception_raised"].groupby(KEYS)["exception_id"].nunique()
    runs["exception_count"] = raised.reindex(runs.index).fillna(0).astype("int64")
    runs["final_status"] = "in_flight"
    runs.loc[runs["terminal_type"] == "run_completed", "final_status"] = "completed"
    runs.loc[runs["terminal_type"] == "run_failed", "final_status"] = "failed"
    runs.loc[(runs["terminal_type"] == "run_failed") & runs["has_compensation"], "final_status"] = "compensated"
    runs.loc[runs["terminal_type"] == "run_compensated", "final_status"] = "compensated"
    runs["cycle_time_seconds"] = (runs["ended_at"] - runs["started_at"]).dt.total_seconds()
    runs = runs.reset_index()[
        ["workflow_id", "run_id", "region", "started_at", "ended_at", "final_status", "cycle_time_seconds", "exception_count"]
    ]

    # weekly throughput and cycle-time percentiles
    runs["start_week"] = runs["started_at"].dt.to_period("W-SUN").dt.start_time
    runs["end_week"] = runs["ended_at"].dt.to_period("W-SUN").dt.start_time
    started = runs.groupby(["workflow_id", "region", "start_week"]).size().rename("runs_started")
    started.index.names = ["workflow_id", "region", "week_start"]
    done = runs[runs["final_status"] == "completed"]
    grouped = done.groupby(["workflow_id", "region", "end_week"])
    completed = _quantiles(grouped, "cycle_time_seconds", "cycle_time")
    completed.insert(0, "runs_completed", grouped.size())
    completed.index.names = ["workflow_id", "region", "week_start"]
    weekly = pd.concat([started, completed], axis=1).reset_index()
    weekly[["runs_started", "runs_completed"]] = weekly[["runs_started", "runs_completed"]].fillna(0).astype("int64")

    # exception time to resolution per workflow x class x week resolved
    exc = df[df["exception_id"].notna() & df["event_type"].isin(
        ("exception_raised", "exception_acknowledged", "exception_resolved"))].copy()
    exc["not_raise"] = exc["event_type"] != "exception_raised"
    first = exc.sort_values(["not_raise", "ts", "event_id"]).drop_duplicates("exception_id").set_index("exception_id")
    per = first[["workflow_id"]].copy()
    per["exception_class"] = first["exception_class"].fillna(exc.groupby("exception_id")["exception_class"].min())
    per["raised_at"] = first["ts"]  # the earliest raise, else the earliest event
    per["resolved_at"] = exc[exc["event_type"] == "exception_resolved"].groupby("exception_id")["ts"].min()
    per = per[per["resolved_at"].notna()].copy()
    per["exception_class"] = per["exception_class"].fillna("UNKNOWN")
    per["week_start"] = per["resolved_at"].dt.to_period("W-SUN").dt.start_time
    per["ttr"] = (per["resolved_at"] - per["raised_at"]).dt.total_seconds()
    grouped = per.groupby(["workflow_id", "exception_class", "week_start"])
    ttr = _quantiles(grouped, "ttr", "time_to_resolution")
    ttr.insert(0, "exceptions_resolved", grouped.size())
    ttr = ttr.reset_index()

    # monthly exception rate
    runs["month_start"] = runs["started_at"].dt.to_period("M").dt.start_time
    runs["has_exception"] = runs["exception_count"] > 0
    monthly = runs.groupby(["workflow_id", "month_start"]).agg(
        runs_started=("run_id", "size"), runs_with_exceptions=("has_exception", "sum")).reset_index()
    monthly["exception_rate_pct"] = (100.0 * monthly["runs_with_exceptions"] / monthly["runs_started"]).round(6)

    return {
        "runs": runs.drop(columns=["start_week", "end_week", "month_start", "has_exception"]),
        "weekly": weekly,
        "exception_ttr": ttr,
        "monthly": monthly,
    }
