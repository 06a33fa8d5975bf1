"""The benchmark's peers (orchestration/bench/pandas_impl.py, polars_impl.py) on hand-made events whose answers
were worked out by hand: the marts' rules (which event starts and ends a run, ties by event_id, a failure with a
compensation, time zones of the ISO week and month, linear-interpolation quantiles, an exception's class from
its raise else the smallest seen). Both peers must give these rows; the benchmark then checks both against the
marts at scale (compare.py, tests/integration/test_bench_smoke.py)."""
from __future__ import annotations

import math
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.bench import pandas_impl, polars_impl

EVENTS = [
    # (event_id, run_id, event_type, event_ts, region, exception_id, exception_class)
    # r1: a stage event before run_started (region and start come from run_started); run_completed and run_failed
    # at the same instant: the smaller event_id (e05, completed) ends the run
    ("e00", "r1", "stage_completed", "2026-11-02T06:30:00.000Z", "us-east-1", None, None),
    ("e01", "r1", "run_started", "2026-11-02T08:00:00.000+01:00", "eu-west-1", None, None),
    ("e03", "r1", "exception_raised", "2026-11-02T07:10:00.000Z", "eu-west-1", "x1", "DATA"),
    ("e03b", "r1", "exception_raised", "2026-11-02T07:20:00.000Z", "eu-west-1", "x1", "DATA"),
    ("e04", "r1", "exception_resolved", "2026-11-02T07:40:00.000", "eu-west-1", "x1", "DATA"),  # no offset: UTC
    ("e05", "r1", "run_completed", "2026-11-02T09:00:00.000Z", "eu-west-1", None, None),
    ("e06", "r1", "run_failed", "2026-11-02T09:00:00.000Z", "eu-west-1", None, None),
    # r2: no run_started (its earliest event starts it: Sunday 23:30 in New York = Monday 04:30 UTC, ISO week of
    # 2026-11-09); run_failed then run_compensated: compensated
    ("e10", "r2", "stage_started", "2026-11-08T23:30:00.000-05:00", "ap-southeast-2", None, None),
    ("e11", "r2", "run_failed", "2026-11-09T05:00:00.000Z", "ap-southeast-2", None, None),
    ("e12", "r2", "run_compensated", "2026-11-09T06:00:00.000Z", "ap-southeast-2", None, None),
    # r3: in flight, started in October; x2 raised without a class (its class: the smallest seen, POLICY),
    # resolved Sunday 2026-11-01 (ISO week of 2026-10-26); x3 never resolved
    ("e20", "r3", "run_started", "2026-10-31T23:00:00.000Z", "us-east-1", None, None),
    ("e21", "r3", "exception_raised", "2026-10-31T23:10:00.000Z", "us-east-1", "x2", None),
    ("e22", "r3", "exception_acknowledged", "2026-10-31T23:20:00.000Z", "us-east-1", "x2", "SYSTEM"),
    ("e23", "r3", "exception_resolved", "2026-11-01T00:30:00.000Z", "us-east-1", "x2", "POLICY"),
    ("e24", "r3", "exception_raised", "2026-10-31T23:30:00.000Z", "us-east-1", "x3", "DATA"),
    # r4: completed in one hour in r1's region and week (two cycle times there: 3600 and 7200 s)
    ("e30", "r4", "run_started", "2026-11-03T10:00:00.000Z", "eu-west-1", None, None),
    ("e31", "r4", "run_completed", "2026-11-03T11:00:00.000Z", "eu-west-1", None, None),
]

RUNS = {  # run_id: region, started_at, ended_at, final_status, cycle_time_seconds, exception_count
    "r1": ("eu-west-1", datetime(2026, 11, 2, 7), datetime(2026, 11, 2, 9), "completed", 7200.0, 1),
    "r2": ("ap-southeast-2", datetime(2026, 11, 9, 4, 30), datetime(2026, 11, 9, 5), "compensated", 1800.0, 0),
    "r3": ("us-east-1", datetime(2026, 10, 31, 23), None, "in_flight", None, 2),
    "r4": ("eu-west-1", datetime(2026, 11, 3, 10), datetime(2026, 11, 3, 11), "completed", 3600.0, 0),
}
WEEKLY = {  # (region, week_start): runs_started, runs_completed, p50, p90 (linear: 3600 + q * 3600)
    ("eu-west-1", date(2026, 11, 2)): (2, 2, 5400.0, 6840.0),
    ("ap-southeast-2", date(2026, 11, 9)): (1, 0, None, None),
    ("us-east-1", date(2026, 10, 26)): (1, 0, None, None),
}
TTR = {  # (exception_class, week_start): exceptions_resolved, p50, p90
    ("DATA", date(2026, 11, 2)): (1, 1800.0, 1800.0),  # x1: the earliest raise 07:10 to 07:40
    ("POLICY", date(2026, 10, 26)): (1, 4800.0, 4800.0),  # x2: 23:10 to 00:30
}
MONTHLY = {  # month_start: runs_started, runs_with_exceptions, exception_rate_pct
    date(2026, 11, 1): (3, 1, 33.333333),
    date(2026, 10, 1): (1, 1, 100.0),
}


@pytest.fixture(scope="module")
def events_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("peers") / "events.parquet"
    columns = list(zip(*EVENTS, strict=True))
    table = pa.table({
        "event_id": columns[0], "workflow_id": ["wf_a"] * len(EVENTS), "run_id": columns[1],
        "event_type": columns[2], "event_ts": columns[3], "region": columns[4],
        "exception_id": pa.array(columns[5], pa.string()), "exception_class": pa.array(columns[6], pa.string()),
    })
    pq.write_table(table, path)
    return str(path)


def _rows(frame) -> list[dict]:
    """Rows as plain Python values (pandas NaN/NaT and polars None -> None, timestamps -> datetime)."""
    rows = frame.to_dicts() if hasattr(frame, "to_dicts") else frame.to_dict("records")
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "NaT":
                value = None
            elif hasattr(value, "to_pydatetime"):
                value = value.to_pydatetime()
            clean[key] = value
        out.append(clean)
    return out


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


@pytest.fixture(scope="module", params=["pandas", "polars"])
def outputs(request, events_path):
    impl = {"pandas": pandas_impl, "polars": polars_impl}[request.param]
    return {name: _rows(frame) for name, frame in impl.compute(events_path).items()}


def test_runs(outputs):
    got = {r["run_id"]: (r["region"], r["started_at"], r["ended_at"], r["final_status"], r["cycle_time_seconds"],
                         r["exception_count"]) for r in outputs["runs"]}
    assert got == RUNS
    assert {r["workflow_id"] for r in outputs["runs"]} == {"wf_a"}


def test_weekly(outputs):
    got = {(r["region"], _day(r["week_start"])): (r["runs_started"], r["runs_completed"],
                                                  r["cycle_time_p50_seconds"], r["cycle_time_p90_seconds"])
           for r in outputs["weekly"]}
    assert got.keys() == WEEKLY.keys()
    for key, (started, completed, p50, p90) in WEEKLY.items():
        assert got[key][:2] == (started, completed), key
        assert got[key][2:] == ((pytest.approx(p50), pytest.approx(p90)) if p50 is not None else (None, None)), key


def test_exception_ttr(outputs):
    got = {(r["exception_class"], _day(r["week_start"])): (r["exceptions_resolved"], r["time_to_resolution_p50_seconds"],
                                                           r["time_to_resolution_p90_seconds"])
           for r in outputs["exception_ttr"]}
    assert got == TTR
    assert {r["workflow_id"] for r in outputs["exception_ttr"]} == {"wf_a"}


def test_monthly(outputs):
    got = {_day(r["month_start"]): (r["runs_started"], r["runs_with_exceptions"], r["exception_rate_pct"])
           for r in outputs["monthly"]}
    assert got == MONTHLY


def test_polars_column_names_match_pandas(events_path):
    """Same outputs, same columns in the same order (compare.py reads both the same way)."""
    pandas_out, polars_out = pandas_impl.compute(events_path), polars_impl.compute(events_path)
    assert {k: list(v.columns) for k, v in polars_out.items()} == {k: list(v.columns) for k, v in pandas_out.items()}


def test_polars_rejects_unparseable_timestamps(tmp_path):
    """Bad input is an error naming the column, not a silently dropped row."""
    path = tmp_path / "bad.parquet"
    row = dict(zip(("event_id", "run_id", "event_type", "event_ts", "region", "exception_id", "exception_class"),
                   EVENTS[1], strict=True))
    row.update(workflow_id="wf_a", event_ts="yesterday at noon")
    pq.write_table(pa.Table.from_pylist([row]), path)
    with pytest.raises(Exception, match="event_ts"):
        polars_impl.compute(str(path))


def test_polars_timestamps_as_the_floor_reads_them():
    """floor.sql trims the text and reads a lower-case `z` as UTC; offsets convert to UTC; no offset is UTC."""
    import polars as pl

    text = pl.Series("event_ts", [" 2026-11-02T09:00:00.250z ", "2026-11-02T10:00:00.000+01:00",
                                  "2026-11-01T23:30:00.000-05:00", "2026-11-02T09:00:00"])
    got = pl.select(polars_impl._utc(pl.lit(text))).to_series().to_list()
    assert got == [datetime(2026, 11, 2, 9, 0, 0, 250000), datetime(2026, 11, 2, 9), datetime(2026, 11, 2, 4, 30),
                   datetime(2026, 11, 2, 9)]
