"""What is happening now (models/marts/operations) on the shared warehouse, against an independent
Python computation from the raw events and the register; and `command-center backtest` end to end,
with a check that a prediction at a cut-off uses no later event."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from orchestration.cli import main
from orchestration.lib.dbt import run_dbt
from orchestration.lib.operations.backtest import predict_at
from orchestration.lib.register import load_register
from orchestration.lib.warehouse import connect
from orchestration.settings import REPO_ROOT

LIFECYCLE = ("run_started", "stage_started", "stage_completed", "stage_retried", "stage_timed_out",
             "approval_requested", "approval_granted", "approval_rejected")
TERMINAL = ("run_completed", "run_failed", "run_compensated")
WAITS_ON = {"approval_requested": "human_approval", "stage_retried": "scheduled_retry",
            "stage_timed_out": "scheduled_retry", "stage_started": "dependency"}
CUTOFF = "2026-11-20 12:00:00"


def _telemetry_runs(con) -> tuple[datetime, dict]:
    """as_of (the latest event) and, per telemetry run, its events sorted by (event_ts, event_id)."""
    as_of = con.execute("select max(event_ts) from raw.workflow_events").fetchone()[0]
    runs: dict[tuple[str, str], list[tuple]] = {}
    for wf, run, eid, etype, ts, stage in con.execute(
        """select workflow_id, run_id, event_id, event_type, event_ts, stage from raw.workflow_events
           where log_format = 'telemetry' order by event_ts, event_id"""
    ).fetchall():
        runs.setdefault((wf, run), []).append((eid, etype, ts, stage))
    return as_of, runs


def _expected_in_flight(con) -> dict:
    as_of, runs = _telemetry_runs(con)
    register = load_register(REPO_ROOT / "command_center.yml")
    thresholds = {(wf, stage): minutes * 60 for wf, stage, minutes, _ in register.operations.stuck_rows(register.owners)}
    expected = {}
    for key, events in runs.items():
        if any(e[1] in TERMINAL for e in events):
            continue
        starts = [e[2] for e in events if e[1] == "run_started"]
        started = min(starts) if starts else events[0][2]
        life = [e for e in events if e[1] in LIFECYCLE]
        last = life[-1] if life else (None, "run_started", started, None)
        staged = [e for e in life if e[3] is not None]
        stage = staged[-1][3] if staged else None
        in_state = (as_of - max(last[2], started)).total_seconds()
        threshold = thresholds.get((key[0], stage), thresholds.get((key[0], None)))
        expected[key] = {
            "current_stage": stage, "last_event_type": last[1], "waits_on": WAITS_ON.get(last[1], "next_stage"),
            "seconds_in_state": in_state, "elapsed_seconds": (as_of - started).total_seconds(),
            "is_stuck": threshold is not None and in_state > threshold,
        }
    return expected


def test_in_flight_and_stuck_match_the_raw_events(shared_warehouse):
    con = connect(shared_warehouse.db, read_only=True)
    try:
        expected = _expected_in_flight(con)
        cur = con.execute("select * from marts.agg_runs_in_flight")
        names = [d[0] for d in cur.description]
        rows = {(r["workflow_id"], r["run_id"]): r for r in (dict(zip(names, t, strict=True)) for t in cur.fetchall())}
        by_age = con.execute(
            "select in_state_age_bucket, count(*) from marts.agg_runs_in_flight where is_stuck group by 1"
        ).fetchall()
        compensated = con.execute(
            "select count(*) from marts.fct_workflow_runs where final_status = 'compensated'"
        ).fetchone()[0]
    finally:
        con.close()
    assert set(rows) == set(expected)
    for key, exp in expected.items():
        row = rows[key]
        for column in ("current_stage", "last_event_type", "waits_on", "is_stuck"):
            assert row[column] == exp[column], (key, column, row[column], exp[column])
        for column in ("seconds_in_state", "elapsed_seconds"):
            assert row[column] == pytest.approx(exp[column], abs=1e-6), (key, column)
    # the generator's end of window: stuck runs, waits on approvals and on retries; compensations
    stuck = [k for k, e in expected.items() if e["is_stuck"]]
    assert len(stuck) >= 6
    assert {"human_approval", "scheduled_retry", "dependency"} <= {e["waits_on"] for e in expected.values()}
    assert compensated > 0
    # stuck runs by age is one query, and it counts every stuck run once
    assert sum(n for _, n in by_age) == len(stuck)
    ranks = sorted((rows[k]["stuck_rank"], -rows[k]["seconds_in_state"]) for k in stuck)
    assert [r for r, _ in ranks] == list(range(1, len(stuck) + 1))
    assert [s for _, s in ranks] == sorted(s for _, s in ranks)  # rank 1 = longest in its state


def _expected_predictions(con, as_of: datetime, min_runs: int = 5, days: int = 28) -> dict:
    """The run_prediction doc block, computed in Python from fct_workflow_runs and the raw events."""
    ref = con.execute(
        """select workflow_id, run_id, started_at, ended_at from marts.fct_workflow_runs
           where log_format = 'telemetry' and final_status = 'completed' and has_run_started
             and ended_at <= ? and ended_at > ?""",
        [as_of, as_of - timedelta(days=days)],
    ).fetchall()
    _, runs = _telemetry_runs(con)
    stage_rows: dict[str, list[tuple]] = {}
    for wf, run, started, ended in ref:
        entries: dict[str, datetime] = {}
        for _eid, etype, ts, stage in runs[(wf, run)]:
            if stage is not None and etype in LIFECYCLE and etype != "run_started" and ts <= ended:
                entries.setdefault(stage, ts)
        order = sorted(entries.items(), key=lambda kv: (kv[1], kv[0]))
        cycle = (ended - started).total_seconds()
        for i, (stage, entered) in enumerate(order):
            left = order[i + 1][1] if i + 1 < len(order) else ended
            stage_rows.setdefault(wf, []).append(
                (run, stage, (entered - started).total_seconds(), (left - started).total_seconds(), cycle))
    out = {}
    for run_key, wf, stage, e, slo in con.execute(
        "select run_key, workflow_id, current_stage, elapsed_seconds, cycle_time_slo_seconds from marts.agg_runs_in_flight"
    ).fetchall():
        rows = stage_rows.get(wf, [])
        at_stage = [c for _r, s, a, b, c in rows if s == stage and a <= e < b]
        cycles = {r: c for r, _s, _a, _b, c in rows}
        running = [c for c in cycles.values() if c > e]
        chosen, basis = (at_stage, "stage_and_elapsed") if len(at_stage) >= min_runs else (
            (running, "elapsed") if len(running) >= min_runs else ([], "none"))
        remaining = float(np.quantile([c - e for c in chosen], 0.5)) if chosen else None
        if slo is None:
            prob = None
        elif e > slo:
            prob = 1.0
        else:
            prob = float(np.mean([c > slo for c in chosen])) if chosen else None
        out[run_key] = (basis, len(chosen), remaining, prob)
    return out


def test_at_risk_predictions_match_an_independent_computation(shared_warehouse):
    con = connect(shared_warehouse.db, read_only=True)
    try:
        as_of = con.execute("select as_of_ts from marts.dim_as_of").fetchone()[0]
        expected = _expected_predictions(con, as_of)
        got = {r[0]: r[1:] for r in con.execute(
            """select run_key, prediction_basis, reference_runs, predicted_remaining_seconds, breach_probability
               from marts.agg_runs_at_risk"""
        ).fetchall()}
    finally:
        con.close()
    assert set(got) == set(expected) and got
    for key, (basis, n, remaining, prob) in expected.items():
        g_basis, g_n, g_remaining, g_prob = got[key]
        assert (g_basis, g_n) == (basis, n), key
        assert g_remaining == (None if remaining is None else pytest.approx(remaining, abs=1e-5)), key
        assert g_prob == (None if prob is None else pytest.approx(prob, abs=1e-5)), key
    assert any(b != "none" for b, *_ in expected.values())


def _predictions(rows: list[dict]) -> dict:
    cols = ("workflow_id", "elapsed_seconds", "prediction_basis", "predicted_remaining_seconds",
            "baseline_remaining_seconds", "is_at_risk", "baseline_is_at_risk", "is_past_slo")
    return {r["run_key"]: tuple(r[c] for c in cols) for r in rows}


def test_backtest_prints_scores_and_sees_no_later_event(shared_warehouse_copy, tmp_path, monkeypatch, capsys):
    settings = shared_warehouse_copy
    out_json = tmp_path / "scores.json"
    assert main(["backtest", "--cutoff", CUTOFF, "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert f"cut-off {CUTOFF}:" in out and "remaining time MAE over" in out and "baseline" in out
    assert "precision" in out and "recall" in out
    (score,) = json.loads(out_json.read_text())
    assert score["in_flight"] > 0 and score["mae_runs"] > 0
    assert score["model_mae_hours"] is not None and score["baseline_mae_hours"] is not None
    assert f"model {score['model_mae_hours']:.2f} h, baseline {score['baseline_mae_hours']:.2f} h" in out

    # no leakage: the same cut-off on a warehouse that never saw a later event predicts the same
    cutoff = datetime.fromisoformat(CUTOFF)
    full = _predictions(predict_at(settings, cutoff, _workdir(tmp_path, "full")))
    truncated_db = tmp_path / "truncated" / "command_center.duckdb"
    truncated_db.parent.mkdir()
    shutil.copy(settings.duckdb_path, truncated_db)
    con = connect(truncated_db)
    try:
        later = con.execute("delete from raw.workflow_events where event_ts > ?", [cutoff]).fetchone()[0]
    finally:
        con.close()
    assert later > 0
    truncated = replace(settings, duckdb_path=truncated_db)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "truncated" / "target"))
    run_dbt(truncated, ["run", "--full-refresh", "--select", "int_runs_summarized", "fct_workflow_runs"])
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(settings.duckdb_path))
    unseen = _predictions(predict_at(truncated, cutoff, _workdir(tmp_path, "unseen")))
    assert full == unseen and full


def _workdir(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    return path


def test_backtest_refuses_a_bad_cutoff(shared_warehouse_copy, capsys):
    assert main(["backtest", "--cutoff", "yesterday"]) == 1
    assert "not an ISO 8601 UTC timestamp" in capsys.readouterr().err
