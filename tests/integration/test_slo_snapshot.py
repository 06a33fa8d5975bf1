"""The weekly SLO snapshot (marts.fct_slo_weekly_snapshot) on a real DuckDB file: its history survives a
retention purge of the raw events, and ``--vars '{snapshot_week: ...}'`` replaces exactly one week.

Six full ISO weeks of generated events (2026-10-12 .. 2026-11-22) are landed and built once for the
module; each test compares whole row sets before and after an incremental run.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from orchestration.lib.dbt import DbtFailed, run_dbt
from orchestration.lib.generator import generate_events, write_events
from orchestration.lib.landing import land_file
from orchestration.lib.register import land_register, load_register, register_sha256
from orchestration.lib.warehouse import connect, open_warehouse

END = date(2026, 11, 23)  # a Monday: the generated events fill the 6 ISO weeks before it
WEEKS = [END - timedelta(weeks=n) for n in range(6, 0, -1)]  # 2026-10-12 .. 2026-11-16
AS_OF_WEEK = WEEKS[-1]  # the latest event is on Sunday 2026-11-22
LOOKBACK_WEEKS = WEEKS[-2:]  # an incremental run recomputes the as_of week and the one before
PURGE_BEFORE = WEEKS[2]  # retention deletes every raw event before Monday 2026-10-26
SELECTED_WEEK = WEEKS[3]  # 2026-11-02: retained, and outside the lookback window
SLIS = {"cycle_time_within_slo", "run_success", "exception_first_touch_within_slo", "exception_resolution_within_slo"}
MODEL = "fct_slo_weekly_snapshot"


@pytest.fixture(scope="module")
def settings(tmp_path_factory, cc_env):
    """A temp warehouse with the register and 6 weeks of events, built up to the snapshot once."""
    tmp = tmp_path_factory.mktemp("slo_snapshot")
    mp = pytest.MonkeyPatch()
    s = cc_env.apply(mp, tmp)  # tests/conftest.py's environment, for a module-scoped warehouse

    register = load_register(s.register_path)
    events = tmp / "events.jsonl"
    write_events(
        generate_events(days=42, runs_per_day=2, seed=5, end_date=END, defect_rate=0.0, register=register),
        events,
        "jsonl",
    )
    with open_warehouse(s.duckdb_path) as con:
        land_register(con, register, source_path=str(s.register_path), sha256=register_sha256(s.register_path))
        land_file(con, events, register=register, salt=s.redaction_salt, now=datetime(2026, 11, 23, 6, tzinfo=UTC))
    run_dbt(s, ["run", "--select", f"+{MODEL}"])  # first build: every week in the data
    yield s
    mp.undo()


def snapshot(s) -> dict[tuple, dict]:
    """Every snapshot row, keyed by (week_start, workflow_id, sli)."""
    con = connect(s.duckdb_path, read_only=True)
    try:
        cur = con.execute(f"select * from marts.{MODEL}")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return {(r["week_start"], r["workflow_id"], r["sli"]): r for r in rows}


def of_weeks(rows: dict[tuple, dict], weeks) -> dict[tuple, dict]:
    return {k: r for k, r in rows.items() if k[0] in set(weeks)}


def without_snapshotted_at(rows: dict[tuple, dict]) -> dict[tuple, dict]:
    return {k: {c: v for c, v in r.items() if c != "snapshotted_at"} for k, r in rows.items()}


def query(s, sql: str, params: list | None = None, *, read_only: bool = True) -> list[tuple]:
    con = connect(s.duckdb_path, read_only=read_only)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_first_build_covers_every_week_workflow_and_sli(settings):
    rows = snapshot(settings)
    registered = {w for (w,) in query(settings, "select workflow_id from governance.slo_targets")}
    assert {k[0] for k in rows} == set(WEEKS)
    # a full grid: every week x registered workflow x SLI, and nothing for unregistered workflows
    assert set(rows) == {(w, wf, sli) for w in WEEKS for wf in registered for sli in SLIS}
    assert all(r["valid_events"] > 0 for r in rows.values() if r["sli"] == "run_success")
    assert {k[0] for k, r in rows.items() if not r["is_complete_week"]} == {AS_OF_WEEK}  # still running


def test_history_survives_a_retention_purge(settings):
    before = snapshot(settings)
    old_events = "select count(*) from raw.workflow_events where event_ts < ?"
    assert query(settings, old_events, [PURGE_BEFORE])[0][0] > 0
    query(settings, "delete from raw.workflow_events where event_ts < ?", [PURGE_BEFORE], read_only=False)
    assert query(settings, old_events, [PURGE_BEFORE])[0][0] == 0

    run_dbt(settings, ["run", "--select", f"+{MODEL}"])  # incremental: the as_of week and the one before
    after = snapshot(settings)

    assert set(after) == set(before)
    kept = [w for w in WEEKS if w not in LOOKBACK_WEEKS]
    # weeks outside the lookback window, including the purged ones, are the very same rows
    assert of_weeks(after, kept) == of_weeks(before, kept)
    # the lookback weeks were rewritten by this run, and their (unpurged) events give the same figures
    assert all(after[k]["snapshotted_at"] > before[k]["snapshotted_at"] for k in of_weeks(after, LOOKBACK_WEEKS))
    assert without_snapshotted_at(of_weeks(after, LOOKBACK_WEEKS)) == without_snapshotted_at(
        of_weeks(before, LOOKBACK_WEEKS)
    )
    # ... while the marts no longer hold what the purged weeks were computed from
    assert query(settings, "select count(*) from marts.fct_workflow_runs where ended_at < ?", [PURGE_BEFORE]) == [(0,)]
    assert all(r["valid_events"] > 0 for k, r in of_weeks(after, WEEKS[:2]).items() if k[2] == "run_success")

    # a lookback reaching back past the purge recomputes only the weeks the data still covers
    # (from the week of the earliest retained event, 10-26); the weeks entirely purged keep their rows
    run_dbt(settings, ["run", "--select", MODEL, "--vars", "{snapshot_lookback_weeks: 52}"])
    again = snapshot(settings)
    assert of_weeks(again, WEEKS[:2]) == of_weeks(before, WEEKS[:2])
    assert all(r["snapshotted_at"] > after[k]["snapshotted_at"] for k, r in of_weeks(again, WEEKS[2:]).items())
    # (10-26 itself is not compared: a run spanning the purge boundary lost its start there)
    assert without_snapshotted_at(of_weeks(again, WEEKS[3:])) == without_snapshotted_at(of_weeks(before, WEEKS[3:]))


def test_snapshot_week_replaces_exactly_that_week(settings):
    before = snapshot(settings)
    # spoil the selected week: a wrong count, and a row of a workflow no longer in the register
    query(
        settings,
        f"update marts.{MODEL} set good_events = 0 where week_start = ? and sli = 'run_success'",
        [SELECTED_WEEK],
        read_only=False,
    )
    query(
        settings,
        f"""insert into marts.{MODEL} by name
            select * replace ('retired_wf' as workflow_id, md5('retired') as snapshot_key)
            from marts.{MODEL} where week_start = ? and sli = 'run_success' limit 1""",
        [SELECTED_WEEK],
        read_only=False,
    )
    assert any(k[1] == "retired_wf" for k in snapshot(settings))

    run_dbt(settings, ["run", "--select", MODEL, "--vars", f'{{snapshot_week: "{SELECTED_WEEK.isoformat()}"}}'])
    after = snapshot(settings)

    others = [w for w in WEEKS if w != SELECTED_WEEK]
    assert of_weeks(after, others) == of_weeks(before, others)  # untouched, to the snapshotted_at
    selected = of_weeks(after, [SELECTED_WEEK])
    # the whole week replaced: the spoiled counts recomputed, the stale workflow's row gone
    assert without_snapshotted_at(selected) == without_snapshotted_at(of_weeks(before, [SELECTED_WEEK]))
    assert all(r["snapshotted_at"] > before[k]["snapshotted_at"] for k, r in selected.items())


def test_snapshot_week_must_be_a_monday(settings, capfd):
    before = snapshot(settings)
    with pytest.raises(DbtFailed):
        run_dbt(settings, ["run", "--select", MODEL, "--vars", '{snapshot_week: "2026-11-17"}'])
    assert "must be the Monday that starts an ISO week" in capfd.readouterr().out
    assert snapshot(settings) == before
