"""The schedules pick the right runs, and the weekly partitioned SLO snapshot builds one week with
its markdown summary.

The schedules are evaluated at fixed instants (no daemon, no warehouse). The snapshot test lands two
ISO weeks of generated events into a tmp warehouse, builds the snapshot's upstream models with dbt
(selected by the snapshot's dbt meta, not by name), then runs the ``weekly_slo_snapshot`` job for
the partition the Monday schedule asks for. Real DuckDB, dbt and Dagster (ephemeral instance).
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import duckdb
import pytest

from orchestration.defs import build_definitions
from orchestration.defs.dbt import WEEKLY_PARTITIONS, WEEKLY_SELECT
from orchestration.lib.dbt import run_dbt
from orchestration.lib.generator import generate_events, write_events
from orchestration.lib.landing import land_file
from orchestration.lib.register import land_register, load_register, register_sha256
from orchestration.lib.slo_summary import SLI_ORDER
from orchestration.lib.warehouse import open_warehouse

pytestmark = pytest.mark.integration

MONDAY_0600 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def defs(command_center_env) -> dg.Definitions:
    return build_definitions()


def tick(defs: dg.Definitions, name: str, when: datetime) -> list[dg.RunRequest]:
    schedule = defs.resolve_schedule_def(name)
    result = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
    return list(result.run_requests or [])


def test_weekly_schedule_on_a_monday_targets_the_week_that_just_ended(defs):
    schedule = defs.resolve_schedule_def("weekly_slo_snapshot_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * 1", "UTC")
    assert schedule.job_name == "weekly_slo_snapshot"

    [request] = tick(defs, "weekly_slo_snapshot_schedule", MONDAY_0600)
    assert request.partition_key == "2026-11-16"
    assert request.run_key == "2026-11-16"  # a second tick for the same week is not launched twice
    # the partition is the ISO week Monday 2026-11-16 00:00 .. Monday 2026-11-23 00:00 UTC
    window = WEEKLY_PARTITIONS.time_window_for_partition_key(request.partition_key)
    assert (window.start, window.end) == (
        datetime(2026, 11, 16, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    )

    # across a year boundary: Monday 2026-01-05 builds the week of Monday 2025-12-29
    [new_year] = tick(defs, "weekly_slo_snapshot_schedule", datetime(2026, 1, 5, 6, tzinfo=UTC))
    assert new_year.partition_key == "2025-12-29"


def test_daily_schedule_requests_the_daily_build(defs):
    schedule = defs.resolve_schedule_def("daily_land_and_build_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 5 * * *", "UTC")
    assert schedule.job_name == "daily_land_and_build"
    [request] = tick(defs, "daily_land_and_build_schedule", datetime(2026, 11, 24, 5, tzinfo=UTC))
    assert request.partition_key is None


def test_weekly_partition_builds_one_week_of_the_snapshot_with_its_summary(command_center_env):
    settings = command_center_env
    register = load_register(settings.register_path)
    events = settings.duckdb_path.parent / "events.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    # two full ISO weeks, 2026-11-09 .. 2026-11-22
    table = generate_events(days=14, runs_per_day=2, seed=11, end_date=date(2026, 11, 23), defect_rate=0.0,
                            register=register)
    write_events(table, events, "jsonl")
    with open_warehouse(settings.duckdb_path) as con:
        land_register(con, register, source_path=str(settings.register_path), sha256=register_sha256(settings.register_path))
        land_file(con, events, register=register, salt=settings.redaction_salt, now=MONDAY_0600)
    # the snapshot's upstream models (what the daily build provides), not the snapshot itself, and
    # dim_as_of (the week's report, run by the same job after the snapshot, needs the build's as_of)
    run_dbt(settings, ["run", "--select", f"+{WEEKLY_SELECT}", "+dim_as_of", "--exclude", WEEKLY_SELECT])

    defs = build_definitions()
    [request] = tick(defs, "weekly_slo_snapshot_schedule", MONDAY_0600)
    result = defs.resolve_job_def("weekly_slo_snapshot").execute_in_process(
        partition_key=request.partition_key, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success

    materializations = {
        e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    # the snapshot, then the week's HTML report (orchestration/defs/report.py, tests/integration/test_report.py)
    report = dg.AssetKey(["reports", "weekly_command_center_report"])
    assert set(materializations) == {dg.AssetKey(["marts", "fct_slo_weekly_snapshot"]), report}
    assert materializations[report].partition == "2026-11-16"
    materialization = materializations[dg.AssetKey(["marts", "fct_slo_weekly_snapshot"])]
    assert materialization.partition == "2026-11-16"
    md = {k: v.value for k, v in materialization.metadata.items()}
    summary = md["summary"]
    assert summary.startswith("### SLOs for the ISO week 2026-W47 (2026-11-16 – 2026-11-22, UTC)")
    for owner in register.owners:
        assert f"| {owner.workflow_id} |" in summary, f"{owner.workflow_id} missing from the summary"
    for sli in SLI_ORDER:
        assert f"| {sli} |" in summary
    assert md["week_start"] == "2026-11-16"
    assert md["workflows"] == len(register.owners)
    assert md["dagster/partition_row_count"] == len(register.owners) * len(SLI_ORDER) == md["dagster/row_count"]
    assert f"**{md['slo_breaches']} of {md['measured_slos']} measured SLOs breached**" in summary

    # every dbt test of the snapshot ran as a check, after the materialization, and passed
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    job_checks = defs.resolve_job_def("weekly_slo_snapshot").asset_layer.asset_graph.asset_check_keys
    assert {c.asset_check_key for c in evaluations} == set(job_checks)
    assert all(c.passed for c in evaluations)
    asset_events = [
        e.event_type
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    assert asset_events[0] == dg.DagsterEventType.ASSET_MATERIALIZATION

    # the snapshot holds exactly that week (the data covers 11-09 too: a first build with the
    # partition's snapshot_week computes only the week asked for)
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        weeks = con.execute("select distinct week_start from marts.fct_slo_weekly_snapshot").fetchall()
    finally:
        con.close()
    assert weeks == [(date(2026, 11, 16),)]
