"""End to end through the real CLI: generate -> ingest -> dbt build on a real DuckDB file -> marts.

The marts are checked against numbers computed independently from the raw events (numpy quantiles,
plain SQL over raw.workflow_events), not against themselves.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from orchestration.cli import main
from orchestration.lib.register import load_register
from orchestration.lib.warehouse import connect
from orchestration.settings import REPO_ROOT


@pytest.fixture(scope="module")
def built(shared_warehouse) -> Path:
    """The session's shared warehouse (tests/conftest.py): 21 days of generated telemetry (seed 3, 6 runs
    per day) and a 5-day minimal log of order_to_ship, landed and built once. Read it only."""
    return shared_warehouse.db


def test_every_run_becomes_one_fact_row(built):
    con = connect(built, read_only=True)
    raw_runs = con.execute("select count(distinct (workflow_id, run_id)) from raw.workflow_events").fetchone()[0]
    fct = con.execute("select count(*), count(distinct (workflow_id, run_id)) from marts.fct_workflow_runs").fetchone()
    assert fct == (raw_runs, raw_runs)
    statuses = {s for (s,) in con.execute("select distinct final_status from marts.fct_workflow_runs").fetchall()}
    assert statuses == {"completed", "failed", "compensated", "in_flight"}
    # in-flight runs have no end and no cycle time; ended runs have both
    assert con.execute(
        """select count(*) from marts.fct_workflow_runs
           where (final_status = 'in_flight') <> (ended_at is null)
              or (ended_at is null) <> (cycle_time_seconds is null)"""
    ).fetchone()[0] == 0


def test_cycle_time_matches_raw_events(built):
    con = connect(built, read_only=True)
    mismatches = con.execute(
        """
        with raw_runs as (
            select workflow_id, run_id,
                   min(event_ts) filter (where event_type = 'run_started') as started_at,
                   min(event_ts) filter (where event_type in ('run_completed', 'run_failed', 'run_compensated')) as ended_at
            from raw.workflow_events where log_format = 'telemetry' group by 1, 2
        )
        select count(*) from raw_runs r join marts.fct_workflow_runs f using (workflow_id, run_id)
        where r.started_at is not null and r.ended_at is not null
          and abs(f.cycle_time_seconds - epoch(r.ended_at - r.started_at)) > 0.001
        """
    ).fetchone()[0]
    assert mismatches == 0


def test_weekly_percentiles_match_numpy(built):
    con = connect(built, read_only=True)
    weekly = con.execute(
        """select workflow_id, region, week_start, runs_completed, cycle_time_p50_seconds, cycle_time_p90_seconds,
                  share_within_slo
           from marts.agg_workflow_weekly where runs_completed >= 3"""
    ).fetchall()
    assert weekly
    for wf, region, week, n, p50, p90, share in weekly:
        rows = con.execute(
            """select cycle_time_seconds, within_slo from marts.fct_workflow_runs
               where workflow_id = ? and region = ? and final_status = 'completed'
                 and ended_at >= ? and ended_at < ? + interval 7 day""",
            [wf, region, week, week],
        ).fetchall()
        times = np.array([r[0] for r in rows])
        assert len(times) == n
        assert p50 == pytest.approx(np.quantile(times, 0.5))  # numpy default: linear interpolation
        assert p90 == pytest.approx(np.quantile(times, 0.9))
        flags = [r[1] for r in rows if r[1] is not None]
        if flags:
            assert share == pytest.approx(sum(flags) / n)


def test_runs_started_and_completed_are_conserved_across_periods(built):
    con = connect(built, read_only=True)
    fct = con.execute(
        """select count(*), count(*) filter (where final_status = 'completed') from marts.fct_workflow_runs
           where started_at is not null"""
    ).fetchone()
    daily = con.execute("select sum(runs_started), sum(runs_completed) from marts.agg_workflow_daily").fetchone()
    weekly = con.execute("select sum(runs_started), sum(runs_completed) from marts.agg_workflow_weekly").fetchone()
    assert daily == weekly == fct


def test_unregistered_and_minimal_runs(built):
    con = connect(built, read_only=True)
    unregistered = con.execute(
        "select distinct workflow_id from marts.fct_workflow_runs where not is_registered_workflow order by 1"
    ).fetchall()
    assert ("order_to_ship",) in unregistered
    minimal = con.execute(
        """select count(*), count(*) filter (where final_status = 'completed'), count(*) filter (where within_slo is null)
           from marts.fct_workflow_runs where workflow_id = 'order_to_ship'"""
    ).fetchone()
    assert minimal[0] > 0 and minimal[0] == minimal[1] == minimal[2]


def test_exception_clocks_match_raw_events_and_the_register(built):
    """fct_exceptions against plain SQL over raw events plus the register read in Python."""
    register = load_register(REPO_ROOT / "command_center.yml")
    snooze = [(c.code, c.snooze_policy_minutes * 60.0, c.route_to) for c in register.exceptions.classes]
    slo = [(o.workflow_id, o.sla.exception_first_touch_minutes * 60.0, o.sla.exception_resolution_hours * 3600.0)
           for o in register.owners]
    con = connect(built, read_only=True)
    con.execute("create temp table snooze (exception_class varchar, snooze_s double, route_to varchar)")
    con.executemany("insert into snooze values (?, ?, ?)", snooze)
    con.execute("create temp table slo (workflow_id varchar, ft_s double, res_s double)")
    con.executemany("insert into slo values (?, ?, ?)", slo)
    as_of = con.execute("select max(event_ts) from raw.workflow_events").fetchone()[0]
    expected = con.execute(
        """
        with e as (
            select exception_id,
                   arg_min(workflow_id, event_ts) filter (where event_type = 'exception_raised') as workflow_id,
                   arg_min(exception_class, event_ts) filter (where event_type = 'exception_raised') as exception_class,
                   min(event_ts) filter (where event_type = 'exception_raised') as raised,
                   min(event_ts) filter (where event_type = 'exception_acknowledged') as acked,
                   min(event_ts) filter (where event_type = 'exception_resolved') as resolved
            from raw.workflow_events where exception_id is not null group by 1
        )
        select e.exception_id,
               greatest(epoch(e.acked - e.raised) - coalesce(s.snooze_s, 0), 0) as ttft,
               epoch(e.resolved - e.raised) as ttr,
               case when e.resolved is null then epoch(?::timestamp - e.raised) end as age,
               coalesce(greatest(epoch(e.acked - e.raised) - coalesce(s.snooze_s, 0), 0),
                        greatest(epoch(?::timestamp - e.raised) - coalesce(s.snooze_s, 0), 0)) > slo.ft_s as ft_breach,
               coalesce(epoch(e.resolved - e.raised), epoch(?::timestamp - e.raised)) > slo.res_s as res_breach,
               coalesce(s.route_to, w.service_owner, 'unassigned') as routed
        from e left join snooze s using (exception_class) left join slo using (workflow_id)
        left join governance.workflows w using (workflow_id)
        where e.raised is not null
        order by 1
        """,
        [as_of, as_of, as_of],
    ).fetchall()
    actual = con.execute(
        """select exception_id, time_to_first_touch_seconds, time_to_resolution_seconds, age_seconds,
                  first_touch_breached, resolution_breached, routed_owner
           from marts.fct_exceptions where has_raised_event order by 1"""
    ).fetchall()
    assert len(expected) > 20
    assert len(actual) == len(expected)
    for exp, act in zip(expected, actual, strict=True):
        assert act[0] == exp[0]
        for a, b in zip(act[1:4], exp[1:4], strict=True):
            assert (a is None and b is None) or a == pytest.approx(b, abs=1e-3), (exp, act)
        assert act[4:] == exp[4:], (exp, act)
    # every exception id in the raw events is one fact row
    ids = con.execute("select count(distinct exception_id) from raw.workflow_events").fetchone()[0]
    assert con.execute("select count(*) from marts.fct_exceptions").fetchone()[0] == ids


def test_status_reports_loads_quarantine_and_marts(built, capsys, monkeypatch, tmp_path, cc_env):
    cc_env.apply(monkeypatch, tmp_path, duckdb=built)  # status only reads
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "loaded: 2 file(s)" in out and "quarantine by reason" in out and "marts.fct_workflow_runs" in out


def test_relanding_is_a_no_op_and_says_so(shared_warehouse_copy, capsys):
    built = shared_warehouse_copy.duckdb_path  # ingest opens the warehouse for writing: a private copy
    con = connect(built, read_only=True)
    path = con.execute("select file_path from raw.load_ledger where log_format = 'telemetry'").fetchone()[0]
    before = con.execute("select count(*) from raw.workflow_events").fetchone()[0]
    con.close()
    assert main(["ingest", path]) == 0
    assert "already loaded" in capsys.readouterr().out
    con = connect(built, read_only=True)
    assert con.execute("select count(*) from raw.workflow_events").fetchone()[0] == before


def test_demo_prints_summary_and_starts_fresh_each_time(tmp_path, capsys, monkeypatch, cc_env):
    cc_env.apply(monkeypatch, tmp_path, duckdb=tmp_path / "demo.duckdb")
    for end in ("2026-11-16", "2026-11-23"):  # a demo on another day does not stack a second sample
        assert main(["demo", "--days", "10", "--runs-per-day", "3", "--end-date", end]) == 0
    out = capsys.readouterr().out
    assert "Last full ISO week: 2026-11-16 to 2026-11-22 (UTC)" in out
    for column in ("runs completed", "p50 cycle", "p90 cycle", "within SLO", "rows quarantined"):
        assert column in out
    assert "fulfillment_v2" in out and str(tmp_path / "demo.duckdb") in out and "make dagster" in out
    for section in ("Top 5 oldest open exceptions", "Exception budget, month to date", "Cost to serve, week of"):
        assert section in out
    con = connect(tmp_path / "demo.duckdb", read_only=True)
    _assert_demo_figures_equal_the_marts(out, con)
    # the events, the minimal case log and the governance log (docs/governance-log.md) of the last demo
    assert con.execute("select log_format from raw.load_ledger order by 1").fetchall() == [
        ("governance",), ("minimal",), ("telemetry",)]
    assert con.execute("select max(event_ts) < '2026-11-23' and min(event_ts) >= '2026-11-13' "
                       "from raw.workflow_events").fetchone()[0]
    con.close()


def _table_rows(out: str, header_column: str) -> list[list[str]]:
    """The rows of the last fixed-width table of `out` whose header names header_column (the output may
    hold several summaries), split on runs of two or more spaces (cells hold at most single spaces)."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if header_column in line and not line.startswith(" "))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _assert_demo_figures_equal_the_marts(out: str, con) -> None:
    """Every printed figure of the runs and cost tables is the marts' value for the printed week
    (independent SQL over the marts, formatted as printed); the row counts compared are asserted."""
    week = date(2026, 11, 16)
    expected = con.execute(
        """select workflow_id, runs_completed, cycle_time_p50_seconds, cycle_time_p90_seconds, share_within_slo
           from marts.agg_workflow_weekly_all_regions where week_start = ? order by workflow_id""",
        [week],
    ).fetchall()
    printed = {row[0].removesuffix(" (unregistered)"): row for row in _table_rows(out, "p50 cycle")}
    assert len(expected) >= 6  # the six registered workflows all ran that week
    compared = 0
    for wf, n, p50, p90, share in expected:
        row = printed[wf]
        assert row[1] == str(n), row
        if n:
            assert row[2] == f"{p50 / 3600:.2f}h" and row[3] == f"{p90 / 3600:.2f}h", (row, p50, p90)
        if share is not None:
            assert row[4] == f"{share * 100:.1f}%", (row, share)
        compared += 1
    assert compared == len(expected)
    # the mart's percentiles are those of the week's completed runs in the fact (all regions)
    for wf, n, p50, p90, _share in expected:
        times = [t for (t,) in con.execute(
            """select cycle_time_seconds from marts.fct_workflow_runs where workflow_id = ?
               and final_status = 'completed' and ended_at >= ? and ended_at < ? + interval 7 day""",
            [wf, week, week]).fetchall()]
        assert len(times) == n
        if n:
            assert p50 == pytest.approx(np.quantile(times, 0.5)) and p90 == pytest.approx(np.quantile(times, 0.9))
    cost = con.execute(
        """select owner_team, sum(completed_runs), sum(total_cost) from marts.agg_cost_to_serve_weekly
           where grain = 'owner_team_region' and week_start = ? group by 1 order by 1""",
        [week],
    ).fetchall()
    printed_cost = _table_rows(out, "per completed run")
    assert len(cost) > 0 and len(printed_cost) == len(cost)
    for (team, n, total), row in zip(cost, printed_cost, strict=True):
        assert row[:2] == [team, str(n)] and row[4] == f"{total:,.2f}", (row, total)
    _assert_demo_landing_and_as_of_equal_the_marts(out, con)
    _assert_demo_operations_equal_the_marts(out, con)
    _assert_demo_alerts_equal_the_marts(out, con)


def _assert_demo_alerts_equal_the_marts(out: str, con) -> None:
    """The alert counts, the per-owner lines and the top firing alerts printed are fct_alert_episodes' (docs/alerting.md)."""
    firing, silenced, resolved = con.execute(
        """select count(*) filter (where status = 'firing'), count(*) filter (where status = 'firing' and is_silenced),
                  count(*) filter (where status = 'resolved') from marts.fct_alert_episodes""").fetchone()
    assert firing > 0 and resolved > 0
    assert f"Alerts as of the build: {firing} firing (" in out and f"{silenced} silenced), {resolved} resolved" in out
    owners = con.execute(
        """select owner, count(*) from marts.fct_alert_episodes where status = 'firing' and not is_silenced
           group by owner order by count(*) desc, owner""").fetchall()
    assert [(r[0], int(r[1])) for r in _table_rows(out, "alert owner")] == owners
    assert "Alerts it would send now, per owner:" in out
    top = con.execute(
        """select alert_name, workflow_id, owner from marts.fct_alert_episodes where status = 'firing' and not is_silenced
           order by case severity when 'page' then 1 when 'ticket' then 2 else 3 end, fired_at desc, episode_key
           limit 10""").fetchall()
    assert [(r[2], r[3], r[5]) for r in _table_rows(out, "alert severity")] == top


def _assert_demo_operations_equal_the_marts(out: str, con) -> None:
    """The runs in flight, stuck runs by age, the longest stuck and the runs at risk printed are
    agg_runs_in_flight's and agg_runs_at_risk's (docs/operations.md)."""
    in_flight, stuck = con.execute(
        "select count(*), count(*) filter (where is_stuck) from marts.agg_runs_in_flight").fetchone()
    assert stuck > 0  # the generator hangs runs at the end of the window
    assert f"Runs in flight now: {in_flight}, stuck {stuck} " in out
    by_age = con.execute(
        """select in_state_age_bucket, count(*), count(*) filter (where is_stuck) from marts.agg_runs_in_flight
           group by in_state_age_bucket, in_state_age_bucket_order order by in_state_age_bucket_order""").fetchall()
    assert _table_rows(out, "age in state") == [[b, str(n), str(s)] for b, n, s in by_age]
    top = con.execute(
        """select run_id, workflow_id, coalesce(current_stage, '(none)'), seconds_in_state from marts.agg_runs_in_flight
           where is_stuck order by stuck_rank limit 5""").fetchall()
    assert [(r[0], r[1], r[2], r[4]) for r in _table_rows(out, "stuck run")] == [
        (r, w, st, f"{s / 3600:.2f}h") for r, w, st, s in top]
    past, at_risk = con.execute(
        """select count(*) filter (where is_past_slo), count(*) filter (where is_at_risk and not is_past_slo)
           from marts.agg_runs_at_risk""").fetchone()
    assert f"past their cycle-time SLO already: {past}; at risk of breaching it: {at_risk}." in out
    risk = con.execute(
        """select run_id, workflow_id, breach_probability from marts.agg_runs_at_risk
           where is_at_risk and not is_past_slo order by risk_rank limit 5""").fetchall()
    if risk:
        assert [(r[0], r[1], r[6]) for r in _table_rows(out, "at-risk run")] == [
            (r, w, f"{p:.2f}") for r, w, p in risk]
    else:
        assert "none at risk" in out


def _assert_demo_landing_and_as_of_equal_the_marts(out: str, con) -> None:
    """The as-of instant, the rows quarantined per workflow and the landing totals are the landing
    marts' (dim_as_of, agg_quarantine_reasons, fct_landed_files), and those agree with raw."""
    as_of, latest, pinned = con.execute("select as_of_ts, latest_event_at, is_pinned from marts.dim_as_of").fetchone()
    assert not pinned and as_of == latest == con.execute("select max(event_ts) from raw.workflow_events").fetchone()[0]
    assert f"data as of {as_of:%Y-%m-%d %H:%M} UTC" in out
    quarantined = dict(con.execute(
        """select coalesce(w.workflow_id, '(other or unreadable workflow_id)'), sum(q.rows_quarantined)
           from marts.agg_quarantine_reasons as q left join marts.dim_workflows as w using (workflow_id)
           group by 1"""
    ).fetchall())
    total = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    assert sum(quarantined.values()) == total > 0  # the demo sample has defects, all counted once
    printed = {row[0].removesuffix(" (unregistered)"): int(row[-1]) for row in _table_rows(out, "p50 cycle")}
    workflows = {w for (w,) in con.execute("select workflow_id from marts.dim_workflows").fetchall()}
    assert set(printed) == workflows | set(quarantined)
    assert {wf: n for wf, n in printed.items() if n} == quarantined
    files, read, loaded, rows_q = con.execute(
        "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from marts.fct_landed_files"
    ).fetchone()
    assert (files, read, loaded, rows_q) == con.execute(
        "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from raw.load_ledger"
    ).fetchone()
    assert rows_q == total
    assert f"Landed {files} file(s): {read} rows read = {loaded} loaded + {rows_q} quarantined." in out


def test_demo_refuses_a_warehouse_with_real_loads(tmp_path, capsys, monkeypatch, cc_env):
    db = tmp_path / "real.duckdb"
    cc_env.apply(monkeypatch, tmp_path, duckdb=db)
    real = tmp_path / "real.jsonl"
    real.write_text('{"event_id":"e1","workflow_id":"fulfillment_v2","run_id":"r1","event_type":"run_started",'
                    '"event_ts":"2026-11-20T10:00:00Z","region":"us-east-1"}\n')
    assert main(["ingest", str(real)]) == 0
    assert main(["demo", "--days", "3", "--runs-per-day", "2"]) == 1
    assert "holds loads that are not demo samples" in capsys.readouterr().err
    assert db.exists()
