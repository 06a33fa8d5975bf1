"""The alerting marts on the shared warehouse (models/marts/alerting, docs/alerting.md).

- every rule kind of the register fires at least once on the sample data, a minimal (case) log included;
- the episodes mart keeps its interface: unique stable keys, consistent status, routed owners, JSON text;
- the SLO burn-rate alerts of one SLI (run_success) equal an independent Python evaluation of the SRE
  workbook's multi-window, multi-burn-rate rule over the runs (fct_workflow_runs) and the register.
"""
from __future__ import annotations

import bisect
import json
from collections import defaultdict
from datetime import datetime, timedelta

import duckdb
import pytest

from orchestration.lib.register import load_register

PAIRS = [("page", "1h", "5m", 60, 5, 14.4), ("page", "6h", "30m", 360, 30, 6.0),
         ("ticket", "1d", "2h", 1440, 120, 3.0), ("ticket", "3d", "6h", 4320, 360, 1.0)]
EPOCH = datetime(1970, 1, 1)
STEP = timedelta(minutes=5)


@pytest.fixture(scope="module")
def con(shared_warehouse):
    connection = duckdb.connect(str(shared_warehouse.db), read_only=True)
    yield connection
    connection.close()


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_every_rule_kind_fires_including_a_minimal_log(con):
    register = load_register("command_center.yml")
    kinds = {r.kind for r in register.alerting.exception_rules}
    assert kinds == {"latency", "quality", "completeness", "conformance", "volume"}
    fired = {r["rule_kind"] for r in _rows(con, "select distinct rule_kind from marts.fct_detected_exceptions")}
    assert fired == kinds
    episodes = _rows(con, """
        select distinct d.rule_kind from marts.fct_alert_episodes as e
        join marts.fct_detected_exceptions as d on e.alert_name = d.rule_name
        where e.alert_source = 'exception_rule'""")
    assert {r["rule_kind"] for r in episodes} == kinds
    business = _rows(con, """select count(*) as n from marts.fct_detected_exceptions
                              where observed_unit = 'business_seconds'""")
    assert business[0]["n"] > 0
    minimal = _rows(con, """select count(*) as n from marts.fct_detected_exceptions as d
                             join marts.fct_workflow_runs as r on d.workflow_id = r.workflow_id and d.subject = r.run_id
                             where r.log_format = 'minimal'""")
    assert minimal[0]["n"] > 0, "a minimal case log gets exceptions too"
    # the generator's printer outage: label_print_failed > baseline x 3 on the minimal log (issue 16's example)
    spike = _rows(con, """select observed_value, threshold_value from marts.fct_detected_exceptions
                           where rule_name = 'order_to_ship_label_print_failed_spike'""")
    assert spike and all(r["observed_value"] > r["threshold_value"] for r in spike)


def test_detections_breach_their_threshold_and_are_routed(con):
    rows = _rows(con, "select * from marts.fct_detected_exceptions")
    assert rows
    for r in rows:
        if r["rule_kind"] in ("latency", "quality", "volume"):
            assert r["observed_value"] > r["threshold_value"], r
        assert r["detected_at"] <= r["as_of_ts"]
        assert r["routed_owner"] and r["routing_source"] in ("rule", "exception_class", "workflow_service_owner", "unassigned")
        json.loads(r["evidence"])


def test_episode_interface(con):
    rows = _rows(con, "select * from marts.fct_alert_episodes")
    assert {r["alert_source"] for r in rows} >= {"exception_rule", "slo_burn", "exception_aging"}
    assert len({r["episode_key"] for r in rows}) == len(rows)
    for r in rows:
        assert r["severity"] in ("page", "ticket", "info")
        assert (r["status"] == "resolved") == (r["resolved_at"] is not None)
        assert r["fired_at"] <= r["as_of_ts"]
        assert r["resolved_at"] is None or r["fired_at"] <= r["resolved_at"] <= r["as_of_ts"]
        assert r["owner"] and r["summary"]
        steps = json.loads(r["escalation_path"])
        assert steps and steps[0]["notify"] == "owner"
        assert isinstance(json.loads(r["evidence"]), dict)
    silenced = [r for r in rows if r["is_silenced"]]
    assert silenced and {r["alert_name"] for r in silenced} == {"supplier_onboarding_slow_business_hours"}


def _verdicts(con) -> dict[str, list[tuple[datetime, int]]]:
    runs = _rows(con, """select workflow_id, ended_at, final_status from marts.fct_workflow_runs
                          where final_status in ('completed', 'failed', 'compensated')""")
    as_of = con.execute("select as_of_ts from marts.dim_as_of").fetchone()[0]
    out: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for r in runs:
        if r["ended_at"] <= as_of:
            out[r["workflow_id"]].append((r["ended_at"], 0 if r["final_status"] == "completed" else 1))
    return {k: sorted(v) for k, v in out.items()}


def _python_episodes(con) -> set[tuple]:
    """The run_success burn episodes, evaluated in plain Python (SRE workbook, event time)."""
    register = load_register("command_center.yml")
    as_of = con.execute("select as_of_ts from marts.dim_as_of").fetchone()[0]
    last = EPOCH + STEP * ((as_of - EPOCH) // STEP)
    instants = [last - STEP * i for i in range(register.alerting.slo_window_days * 288)][::-1]
    episodes: set[tuple] = set()
    for wf, verdicts in _verdicts(con).items():
        owner = register.workflow(wf)
        if owner is None:
            continue
        budget = 1 - register.objective_pct(owner, "run_success_pct") / 100
        times = [t for t, _ in verdicts]
        bad_cum = [0]
        for _, bad in verdicts:
            bad_cum.append(bad_cum[-1] + bad)

        def burn(t, minutes, times=times, bad_cum=bad_cum, budget=budget):
            lo, hi = bisect.bisect_left(times, t - timedelta(minutes=minutes)), bisect.bisect_left(times, t)
            return None if hi == lo else (bad_cum[hi] - bad_cum[lo]) / (hi - lo) / budget

        for sev, long_l, short_l, long_m, short_m, rate in PAIRS:
            start = None
            for t in instants:
                b_long, b_short = burn(t, long_m), burn(t, short_m)
                firing = b_long is not None and b_short is not None and b_long > rate and b_short > rate
                if firing and start is None:
                    start = (t, round(b_long, 6))
                if not firing and start is not None:
                    episodes.add((wf, f"run_success:{long_l}/{short_l}", sev, start[0], t, start[1]))
                    start = None
            if start is not None:
                episodes.add((wf, f"run_success:{long_l}/{short_l}", sev, start[0], None, start[1]))
    return episodes


def test_burn_rate_alerts_match_an_independent_python_evaluation(con):
    mart = {
        (r["workflow_id"], r["alert_name"], r["severity"], r["fired_at"], r["resolved_at"],
         round(r["long_burn_rate_at_fire"], 6))
        for r in _rows(con, "select * from marts.fct_slo_alerts where sli = 'run_success'")
    }
    expected = _python_episodes(con)
    assert expected, "the sample data has a run_success burn episode"
    assert mart == expected
