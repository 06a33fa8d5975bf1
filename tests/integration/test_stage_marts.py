"""The stage marts (models/marts/stages) against an independent computation in plain Python.

Reads the session's ``shared_warehouse`` (three weeks of generated telemetry plus a minimal log of
order_to_ship) read-only: the raw events are re-read and the rules of ``_stages__docs.md`` applied
again here, in Python, without SQL. Every stage execution, every approval and every run-outcome week
must match the marts. Rules: doc blocks stage_execution_rules, stage_weekly_rules, approval_rules,
approval_weekly_rules and run_outcome_rules.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pytest

STAGE_EVENTS = ("stage_started", "stage_retried", "stage_completed", "stage_timed_out")
TERMINAL = ("run_completed", "run_failed", "run_compensated")


def _week(ts: datetime) -> date:
    return (ts - timedelta(days=ts.weekday())).date()


def _quantile(values: list[float], q: float) -> float | None:
    return round(float(np.quantile(values, q)), 6) if values else None


@pytest.fixture(scope="module")
def warehouse(shared_warehouse):
    con = duckdb.connect(str(shared_warehouse.db), read_only=True)
    cols = ["workflow_id", "run_id", "event_id", "event_type", "event_ts", "stage", "attempt", "actor",
            "log_format", "exception_id"]
    rows = con.execute(f"select {', '.join(cols)} from raw.workflow_events").fetchall()
    events = [dict(zip(cols, row, strict=True)) for row in rows]
    yield con, events
    con.close()


@pytest.fixture(scope="module")
def runs(warehouse):
    """Per run: format, start, end, status and the event facts the outcome rules read (docs run_rules)."""
    _, events = warehouse
    by_run: dict[tuple, list[dict]] = defaultdict(list)
    for e in events:
        by_run[(e["workflow_id"], e["run_id"])].append(e)
    out = {}
    for key, evs in by_run.items():
        evs.sort(key=lambda e: (e["event_ts"], e["event_id"]))
        telemetry = any(e["log_format"] == "telemetry" for e in evs)
        starts = [e["event_ts"] for e in evs if e["log_format"] == "telemetry" and e["event_type"] == "run_started"]
        terminals = [e for e in evs if e["log_format"] == "telemetry" and e["event_type"] in TERMINAL]
        failed = [e["event_ts"] for e in evs if e["event_type"] == "run_failed"]
        compensations = [e["event_ts"] for e in evs if e["event_type"] == "run_compensated"]
        if not telemetry:
            ended, status = evs[-1]["event_ts"], "completed"
        elif terminals:
            first = terminals[0]
            ended = first["event_ts"]
            status = {"run_completed": "completed", "run_compensated": "compensated"}.get(first["event_type"])
            if status is None:
                status = "compensated" if any(e["event_type"] == "run_compensated" for e in terminals) else "failed"
        else:
            ended, status = None, "in_flight"
        completions = [e["stage"] for e in evs if e["event_type"] == "stage_completed" and e["stage"] is not None]
        out[key] = {
            "started": min(starts) if starts else evs[0]["event_ts"],
            "ended": ended,
            "status": status,
            "failed_at": min(failed) if failed else None,
            "compensated": bool(compensations),
            "rolled_back": bool(failed) and any(c >= min(failed) for c in compensations),
            "stages_completed": len(set(completions)),
            "reworked": len(completions) > len(set(completions)),
            "retried": any(e["event_type"] == "stage_retried" for e in evs),
            "escalated": any(e["event_type"] == "exception_raised" and e["exception_id"] for e in evs),
            "human": any(e["actor"] is not None and e["actor"].strip().lower() != "system" for e in evs),
        }
    return out


@pytest.fixture(scope="module")
def executions(warehouse, runs):
    """Per (workflow, run, stage, attempt): (outcome, started_at, ended_at, log_format) by the rules."""
    _, events = warehouse
    attempts: dict[tuple, dict] = defaultdict(lambda: {"start": [], "completed": [], "timed_out": [], "fmt": set()})
    minimal_seen: dict[tuple, int] = defaultdict(int)
    for e in sorted(events, key=lambda e: (e["event_ts"], e["event_id"])):
        if e["stage"] is None or e["event_type"] not in STAGE_EVENTS:
            continue
        stage_key = (e["workflow_id"], e["run_id"], e["stage"])
        if e["log_format"] == "minimal":
            if e["event_type"] != "stage_completed":
                continue
            minimal_seen[stage_key] += 1
            attempt = minimal_seen[stage_key]
        elif e["event_type"] == "stage_retried":
            attempt = max(e["attempt"] if e["attempt"] is not None else 2, 2)
        else:
            attempt = max(e["attempt"] if e["attempt"] is not None else 1, 1)
        a = attempts[(*stage_key, attempt)]
        a["fmt"].add(e["log_format"])
        kind = {"stage_started": "start", "stage_retried": "start", "stage_completed": "completed",
                "stage_timed_out": "timed_out"}[e["event_type"]]
        a[kind].append(e["event_ts"])
    by_stage: dict[tuple, list[int]] = defaultdict(list)
    for (wf, run, stage, attempt) in attempts:
        by_stage[(wf, run, stage)].append(attempt)
    out = {}
    for (wf, run, stage), numbers in by_stage.items():
        numbers.sort()
        for i, n in enumerate(numbers):
            a = attempts[(wf, run, stage, n)]
            nxt = attempts[(wf, run, stage, numbers[i + 1])] if i + 1 < len(numbers) else None
            outcome, ended = _outcome(a, nxt, runs[(wf, run)]["ended"])
            started = min(a["start"]) if a["start"] else None
            fmt = "telemetry" if "telemetry" in a["fmt"] else "minimal"
            out[(wf, run, stage, n)] = (outcome, started, ended, fmt, nxt is None)
    return out


def _outcome(attempt: dict, next_attempt: dict | None, run_end: datetime | None) -> tuple[str, datetime | None]:
    """(outcome, ended_at) of one attempt: the first rule that holds (doc stage_execution_rules)."""
    done = min(attempt["completed"]) if attempt["completed"] else None
    timed_out = min(attempt["timed_out"]) if attempt["timed_out"] else None
    if timed_out is not None and (done is None or timed_out <= done):
        return "timed_out", timed_out
    if done is not None:
        return "completed", done
    if next_attempt is not None:
        return "retried", min(next_attempt["start"]) if next_attempt["start"] else None
    if run_end is not None:
        return "failed", run_end
    return "in_flight", None


def test_every_stage_execution_matches_the_rules(warehouse, executions):
    con, events = warehouse
    rows = con.execute(
        "select workflow_id, run_id, stage, attempt, outcome, started_at, ended_at, log_format, is_last_attempt "
        "from marts.fct_stage_executions"
    ).fetchall()
    mart = {(r[0], r[1], r[2], r[3]): tuple(r[4:]) for r in rows}
    assert len(rows) == len(mart) > 1000
    assert mart == executions
    # every outcome occurs in the generated data, and the minimal log's executions are all there
    assert {v[0] for v in mart.values()} >= {"completed", "retried", "timed_out", "failed"}
    minimal_events = sum(1 for e in events if e["log_format"] == "minimal" and e["event_type"] == "stage_completed")
    assert sum(1 for v in mart.values() if v[3] == "minimal") == minimal_events > 0


def test_minimal_log_executions_have_no_duration(warehouse):
    con, _ = warehouse
    minimal = con.execute(
        "select count(*), count(started_at), count(duration_seconds), count(*) filter (where outcome <> 'completed') "
        "from marts.fct_stage_executions where log_format = 'minimal'"
    ).fetchone()
    assert minimal[0] > 0 and minimal[1:] == (0, 0, 0)
    # so their stages have stage runs but no duration percentiles
    weekly = con.execute(
        "select sum(stage_runs), count(stage_duration_p50_seconds) from marts.agg_stage_weekly "
        "where workflow_id = 'order_to_ship'"
    ).fetchone()
    assert weekly == (minimal[0] - con.execute(
        "select count(*) from marts.fct_stage_executions where log_format = 'minimal' and not is_last_attempt"
    ).fetchone()[0], 0)


def test_stage_weekly_matches_the_executions(warehouse, executions):
    con, _ = warehouse
    stage_runs: dict[tuple, list] = defaultdict(list)
    for (wf, run, stage, n), value in executions.items():
        stage_runs[(wf, run, stage)].append((n, *value))
    expected: dict[tuple, dict] = defaultdict(lambda: {"runs": 0, "exec": 0, "failed": 0, "hist": [0, 0, 0, 0],
                                                       "timeouts": 0, "durations": []})
    for (wf, _run, stage), attempts in stage_runs.items():
        attempts.sort()
        last = attempts[-1]
        if last[3] is None:  # the last attempt has not ended
            continue
        cell = expected[(wf, stage, _week(last[3]))]
        cell["runs"] += 1
        cell["exec"] += len(attempts)
        cell["failed"] += last[1] in ("failed", "timed_out")
        cell["hist"][min(last[0], 4) - 1] += 1
        cell["timeouts"] += sum(a[1] == "timed_out" for a in attempts)
        first_start = min((a[2] for a in attempts if a[2] is not None), default=None)
        if last[1] == "completed" and first_start is not None:
            cell["durations"].append((last[3] - first_start).total_seconds())
    rows = con.execute(
        "select workflow_id, stage, week_start, stage_runs, executions, stage_runs_failed, stage_runs_1_attempt, "
        "stage_runs_2_attempts, stage_runs_3_attempts, stage_runs_4plus_attempts, executions_timed_out, "
        "stage_duration_p50_seconds, stage_duration_p90_seconds from marts.agg_stage_weekly where stage_runs > 0"
    ).fetchall()
    assert len(rows) == len(expected) > 20
    for r in rows:
        cell = expected[(r[0], r[1], r[2])]
        assert r[3:11] == (cell["runs"], cell["exec"], cell["failed"], *cell["hist"], cell["timeouts"]), r[:3]
        assert r[11] == pytest.approx(_quantile(cell["durations"], 0.5)), r[:3]
        assert r[12] == pytest.approx(_quantile(cell["durations"], 0.9)), r[:3]


def _approval_window(register, workflow_id: str, stage: str) -> timedelta:
    """The register's approval window: the workflow x stage row, else the workflow's row, else the default."""
    by_key = {(t.workflow_id, t.stage): t.timeout_hours for t in register.approvals.timeouts}
    hours = by_key.get((workflow_id, stage), by_key.get((workflow_id, None), register.approvals.timeout_hours))
    return timedelta(hours=hours)


def test_approvals_match_the_rules(warehouse, register):
    con, events = warehouse
    # the shipped register shortens one workflow's window: the check below must see it applied
    assert any(t.timeout_hours != register.approvals.timeout_hours for t in register.approvals.timeouts)
    as_of = max(e["event_ts"] for e in events)
    per_stage: dict[tuple, list[dict]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e["event_ts"], e["event_id"])):
        if e["event_type"].startswith("approval_"):
            per_stage[(e["workflow_id"], e["run_id"], e["stage"] or "(none)")].append(e)
    outcomes: dict[tuple, dict] = {}
    weekly: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, []])
    for (wf, run, stage), evs in per_stage.items():
        requests = [e for e in evs if e["event_type"] == "approval_requested"]
        for i, req in enumerate(requests):
            nxt = requests[i + 1]["event_ts"] if i + 1 < len(requests) else None
            decisions = [e for e in evs if e["event_type"] != "approval_requested"
                         and req["event_ts"] <= e["event_ts"] and (nxt is None or e["event_ts"] < nxt)]
            decided = decisions[0] if decisions else None
            deadline = req["event_ts"] + _approval_window(register, wf, stage)
            if decided and decided["event_ts"] <= deadline:
                outcome, settled = decided["event_type"].removeprefix("approval_"), decided["event_ts"]
            elif decided or as_of >= deadline:
                outcome, settled = "timed_out", deadline
            else:
                outcome, settled = "pending", None
            outcomes[(wf, run, stage, i + 1)] = outcome
            if settled is not None:
                cell = weekly[(wf, _week(settled))]
                cell[0] += 1
                cell[("granted", "rejected", "timed_out").index(outcome) + 1] += 1
                if decided:
                    cell[4].append((decided["event_ts"] - req["event_ts"]).total_seconds())
    mart = dict(((r[0], r[1], r[2], r[3]), r[4]) for r in con.execute(
        "select workflow_id, run_id, stage, request_number, outcome from marts.fct_approvals where request_number > 0"
    ).fetchall())
    assert mart == outcomes and len(mart) > 50
    windows = con.execute(
        "select distinct workflow_id, stage, timeout_seconds from marts.fct_approvals where request_number > 0"
    ).fetchall()
    assert {(wf, st): secs for wf, st, secs in windows} == {
        (wf, st): _approval_window(register, wf, st).total_seconds() for wf, st, _ in windows}
    assert len({secs for _, _, secs in windows}) > 1, "the shipped register's shorter window reached no request"
    rows = con.execute(
        "select workflow_id, week_start, requests_settled, requests_granted, requests_rejected, requests_timed_out, "
        "approval_wait_p50_seconds, approval_wait_p90_seconds from marts.agg_approvals_weekly where requests_settled > 0"
    ).fetchall()
    assert len(rows) == len(weekly)
    for r in rows:
        cell = weekly[(r[0], r[1])]
        assert r[2:6] == tuple(cell[:4]), r[:2]
        assert r[6] == pytest.approx(_quantile(cell[4], 0.5)) and r[7] == pytest.approx(_quantile(cell[4], 0.9))


def test_run_outcomes_weekly_match_the_runs(warehouse, runs):
    con, _ = warehouse
    expected: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    lead: dict[tuple, list] = defaultdict(list)
    for (wf, _run), r in runs.items():
        if r["ended"] is None:
            continue
        cell = expected[(wf, _week(r["ended"]))]
        failed = r["status"] in ("failed", "compensated")
        retried_ok = r["status"] == "completed" and r["retried"]
        cell["runs_ended"] += 1
        cell["runs_compensated"] += r["compensated"]
        cell["runs_with_failure_event"] += r["failed_at"] is not None
        cell["runs_rolled_back"] += r["rolled_back"]
        cell["runs_partially_failed"] += r["failed_at"] is not None and r["stages_completed"] > 0
        cell["runs_human_touched"] += r["human"]
        cell["runs_failed"] += failed
        cell["runs_reworked"] += r["reworked"]
        cell["runs_retried_to_succeed"] += retried_ok
        cell["runs_escalated"] += r["escalated"]
        cell["runs_change_failed"] += failed or r["reworked"] or retried_ok or r["escalated"]
        if r["status"] == "completed":
            lead[(wf, _week(r["ended"]))].append((r["ended"] - r["started"]).total_seconds())
    columns = list(next(iter(expected.values())).keys())
    rows = con.execute(
        f"select workflow_id, week_start, {', '.join(columns)}, lead_time_p50_seconds, lead_time_p90_seconds "
        "from marts.agg_run_outcomes_weekly where runs_ended > 0"
    ).fetchall()
    assert len(rows) == len(expected) > 10
    for r in rows:
        cell = expected[(r[0], r[1])]
        assert dict(zip(columns, r[2:2 + len(columns)], strict=True)) == {c: cell[c] for c in columns}, r[:2]
        assert r[-2] == pytest.approx(_quantile(lead[(r[0], r[1])], 0.5))
        assert r[-1] == pytest.approx(_quantile(lead[(r[0], r[1])], 0.9))
    # the generated data exercises every count
    totals = {c: sum(cell[c] for cell in expected.values()) for c in columns}
    assert all(totals[c] > 0 for c in columns), totals


def test_time_to_restore_reconciles_with_fct_exceptions(warehouse):
    con, _ = warehouse
    resolved = defaultdict(list)
    for wf, resolved_at, seconds in con.execute(
        "select workflow_id, resolved_at, time_to_resolution_seconds from marts.fct_exceptions where resolved_at is not null"
    ).fetchall():
        resolved[(wf, _week(resolved_at))].append(seconds)
    rows = con.execute(
        "select workflow_id, week_start, exceptions_resolved, time_to_restore_p50_seconds, time_to_restore_p90_seconds "
        "from marts.agg_run_outcomes_weekly where exceptions_resolved > 0"
    ).fetchall()
    assert len(rows) == len(resolved) > 5
    for wf, week, count, p50, p90 in rows:
        assert count == len(resolved[(wf, week)])
        assert p50 == pytest.approx(_quantile(resolved[(wf, week)], 0.5))
        assert p90 == pytest.approx(_quantile(resolved[(wf, week)], 0.9))
