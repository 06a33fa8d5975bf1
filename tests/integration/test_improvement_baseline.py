"""The register's baseline window drives agg_improvement_vs_baseline on real data.

A copy of the session's shared warehouse (three full ISO weeks, 2026-11-02 .. 2026-11-22; as_of on
Sunday 11-22, so the latest full week is 11-09) is rebuilt once, for the baseline mart only, with a
register that declares: fulfillment_v2 a 1-week baseline from its first full week (11-02), invoice
posting a 1-week baseline starting 11-09, and the recent window 1 week (dbt var). Then:
fulfillment_v2 is comparable and each of its numbers equals the same definition computed here from
the run, exception and cost marts by the test's own SQL; invoice posting's baseline is the recent
week (windows_overlap); the others keep the 6-week default that has not ended.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.cli import main
from orchestration.settings import REPO_ROOT

BASELINE_WEEK, RECENT_WEEK = "2026-11-02", "2026-11-09"


@pytest.fixture(scope="module")
def rebuilt(shared_warehouse, tmp_path_factory, cc_env) -> Path:
    tmp = tmp_path_factory.mktemp("improvement_baseline")
    db = tmp / "warehouse" / "command_center.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(shared_warehouse.db, db)
    register = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    owners = {o["workflow_id"]: o for o in register["owners"]}
    owners["fulfillment_v2"]["baseline"] = {"weeks": 1}
    owners["invoice_posting_v1"]["baseline"] = {"start_week": RECENT_WEEK, "weeks": 1}
    path = tmp / "command_center.yml"
    path.write_text(yaml.safe_dump(register, sort_keys=False))
    mp = pytest.MonkeyPatch()
    try:
        cc_env.apply(mp, tmp, duckdb=db)
        mp.setenv("COMMAND_CENTER_REGISTER", str(path))
        assert main(["build", "--select", "stg_governance__improvement_baselines", "agg_improvement_vs_baseline",
                     "--vars", "{improvement_recent_weeks: 1}"]) == 0
    finally:
        mp.undo()
    return db


def _rows(db: Path, workflow_id: str) -> dict[str, dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute("select * from marts.agg_improvement_vs_baseline where workflow_id = ?", [workflow_id])
        cols = [c[0] for c in cur.description]
        return {r["metric"]: r for r in (dict(zip(cols, v, strict=True)) for v in cur.fetchall())}


def _window_values(con, week: str, recent_runs: int | None = None) -> dict[str, float]:
    """fulfillment_v2 over one ISO week, each metric by its doc-block definition, from the marts."""
    wf = "fulfillment_v2"
    (p90, breach) = con.execute("""
        select quantile_cont(cycle_time_seconds, 0.9),
               count(*) filter (where within_slo = false) / count(*) filter (where within_slo is not null)
        from marts.fct_workflow_runs
        where workflow_id = ? and final_status = 'completed' and date_trunc('week', ended_at) = cast(? as date)""",
        [wf, week]).fetchone()
    (handoff,) = con.execute("""
        select median(epoch(first_touch_at) - epoch(raised_at)) from marts.fct_exceptions
        where workflow_id = ? and date_trunc('week', raised_at) = cast(? as date) and first_touch_at is not null""",
        [wf, week]).fetchone()
    (backlog,) = con.execute("""
        select count(*) from marts.fct_exceptions
        where workflow_id = ? and raised_at < cast(? as date) + interval 7 day
          and (resolved_at is null or resolved_at >= cast(? as date) + interval 7 day)""", [wf, week, week]).fetchone()
    (runs, hours, cost) = con.execute("""
        select sum(completed_runs), sum(labor_hours), sum(total_cost) from marts.agg_cost_to_serve_weekly
        where grain = 'workflow' and workflow_id = ? and week_start = cast(? as date)""", [wf, week]).fetchone()
    return {"cycle_time_p90_seconds": p90, "sla_breach_rate": breach, "exception_backlog": float(backlog),
            "handoff_delay_p50_seconds": handoff, "human_hours_per_run": hours / runs, "cost_per_run": cost / runs,
            "runs": runs, "hours": hours}


def test_a_declared_baseline_is_compared_with_the_recent_week(rebuilt):
    rows = _rows(rebuilt, "fulfillment_v2")
    assert len(rows) == 7
    assert {(r["baseline_source"], str(r["baseline_week_from"]), str(r["baseline_week_to"]), str(r["recent_week_from"]),
             str(r["recent_week_to"]), r["comparison_status"]) for r in rows.values()} == {
        ("default", BASELINE_WEEK, BASELINE_WEEK, RECENT_WEEK, RECENT_WEEK, "comparable")}
    with duckdb.connect(str(rebuilt), read_only=True) as con:
        base, recent = _window_values(con, BASELINE_WEEK), _window_values(con, RECENT_WEEK)
    for metric in ("cycle_time_p90_seconds", "sla_breach_rate", "exception_backlog", "handoff_delay_p50_seconds",
                   "human_hours_per_run", "cost_per_run"):
        row = rows[metric]
        assert math.isclose(row["baseline_value"], base[metric], rel_tol=1e-6, abs_tol=1e-6), metric
        assert math.isclose(row["recent_value"], recent[metric], rel_tol=1e-6, abs_tol=1e-6), metric
        assert row["is_improvement"] == (row["recent_value"] < row["baseline_value"])
    volume = rows["human_hours_for_recent_volume"]
    assert math.isclose(volume["baseline_value"], base["human_hours_per_run"] * recent["runs"], rel_tol=1e-6)
    assert math.isclose(volume["recent_value"], recent["hours"], rel_tol=1e-6)
    assert volume["change_pct"] == pytest.approx(rows["human_hours_per_run"]["change_pct"], abs=1e-4)


def test_overlapping_and_unfinished_baselines_are_not_compared(rebuilt):
    invoice = _rows(rebuilt, "invoice_posting_v1")
    assert {(r["baseline_source"], r["comparison_status"]) for r in invoice.values()} == {("register", "windows_overlap")}
    assert all(r["change_value"] is None and r["is_improvement"] is None for r in invoice.values())
    supplier = _rows(rebuilt, "supplier_onboarding_v1")
    assert {(r["baseline_weeks"], r["comparison_status"]) for r in supplier.values()} == {(6, "baseline_not_ended")}
