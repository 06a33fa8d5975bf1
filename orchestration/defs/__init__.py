"""Dagster wiring for the Automation Command Center: assets, jobs, schedules, sensors and resources.

`build_definitions` assembles everything from one ``Settings`` (orchestration.settings), so a test
or a second deployment can build the same graph against other paths. ``orchestration/definitions.py``
calls it once with the environment's settings.

Layout (later additions slot in beside these):
    resources.py  WarehouseResource (DuckDB file), LandingResource (folder, register), dbt
    register.py   governance_register asset           (group landing)
    landing.py    raw_workflow_events asset + helpers (group landing)
    checks.py     great-expectations checks of raw_workflow_events (computed by the landing step)
    dbt.py        dbt models as assets, dbt tests as asset checks (groups from dbt folders);
                  the weekly-partitioned models (the SLO snapshot) as a second, partitioned asset
    jobs.py       land_new_files, daily_land_and_build, weekly_slo_snapshot (in-process executor)
    schedules.py  daily_land_and_build_schedule (05:00 UTC), weekly_slo_snapshot_schedule (Mon 06:00 UTC)
    sensors.py    landing_folder_sensor (new files in the landing folder -> land_new_files)
    report.py     weekly_command_center_report: the weekly HTML report (group reports), run by the weekly job
    retention.py  retention_purge_job (the retention purge, in-process, warehouse pool), its daily schedule (04:30 UTC)
    full_checks.py weekly_full_checks job + schedule (Sun 06:00 UTC): every data test over the whole history
    alerting.py   alert_dispatch asset (after fct_alert_episodes; the daily job's run sends the digest),
                  dispatch_alerts job, alert_dispatch_sensor (new episodes -> dispatch_alerts)
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.alerting import alert_dispatch_sensor, build_alert_dispatch_asset, dispatch_alerts
from orchestration.defs.dbt import build_dbt_assets, build_dbt_project, build_weekly_dbt_assets, ensure_manifest
from orchestration.defs.full_checks import build_full_checks_job
from orchestration.defs.jobs import JOBS
from orchestration.defs.landing import raw_workflow_events
from orchestration.defs.register import governance_register
from orchestration.defs.report import build_weekly_report_asset
from orchestration.defs.resources import LandingResource, WarehouseResource, dbt_cli_resource
from orchestration.defs.retention import retention_purge_job, retention_purge_schedule
from orchestration.defs.schedules import SCHEDULES
from orchestration.defs.sensors import landing_folder_sensor
from orchestration.lib.dbt import dbt_executable
from orchestration.settings import Settings, get_settings, prepare_environment


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The code location's Definitions. Opens no database connection.

    Exports the environment dbt and Dagster need (telemetry off, COMMAND_CENTER_DUCKDB,
    DBT_PROFILES_DIR) and makes sure the dbt manifest exists (runs ``dbt parse`` if it is missing
    or stale; see orchestration.defs.dbt.ensure_manifest).
    """
    settings = prepare_environment(settings or get_settings())
    project = build_dbt_project(settings)
    ensure_manifest(project)
    weekly_dbt = build_weekly_dbt_assets(project)
    daily_dbt = build_dbt_assets(project)
    full_checks_job, full_checks_schedule = build_full_checks_job(project)
    return dg.Definitions(
        assets=[governance_register, raw_workflow_events, daily_dbt, weekly_dbt,
                build_weekly_report_asset(weekly_dbt.keys), build_alert_dispatch_asset(daily_dbt.keys)],
        jobs=[*JOBS, dispatch_alerts, full_checks_job, retention_purge_job],
        schedules=[*SCHEDULES, full_checks_schedule, retention_purge_schedule],
        sensors=[landing_folder_sensor, alert_dispatch_sensor],
        resources={
            "warehouse": WarehouseResource(duckdb_path=str(settings.duckdb_path)),
            "landing": LandingResource(
                landing_dir=str(settings.landing_dir), register_path=str(settings.register_path)
            ),
            "dbt": dbt_cli_resource(project, dbt_executable()),
        },
        # Ad-hoc materializations from the UI run like the jobs: one process, one writer (jobs.py).
        executor=dg.in_process_executor,
    )
