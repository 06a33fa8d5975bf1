"""Schedules (UTC). They only request runs; the jobs (jobs.py) do the work, one writer at a time.

* ``daily_land_and_build_schedule``: every day at 05:00 UTC, ``daily_land_and_build`` (land the
  register and any file the sensor has not landed yet, then ``dbt build`` everything except the
  weekly snapshot).
* ``weekly_slo_snapshot_schedule``: Mondays at 06:00 UTC, ``weekly_slo_snapshot`` for the ISO week
  that ended at Monday 00:00, i.e. the partition keyed by the previous Monday (the run at
  2026-11-23 06:00 builds partition ``2026-11-16``). Built from the partitioned job with
  ``build_schedule_from_partitioned_job``: each tick targets the latest complete week, and its run
  key is the partition key, so a tick cannot start the same week twice. It runs an hour after the
  daily build so the marts it reads hold the weekend's events.

The weekly run does not pin ``as_of``: the snapshot is computed as of the latest event in the
warehouse (the model's default), like every other mart, so a feed that is late cannot turn its
open exceptions into breaches by the clock. Consequences, both healed by re-running the partition
(a backfill of that one week): if no event of the new week has arrived by 06:00 the week's rows
say ``is_complete_week = false``; and exception SLIs count exceptions by the week they were raised,
so acknowledgements and resolutions that arrive later still change a week's numbers. The daily
build never touches the snapshot (it is partitioned).

Both schedules and the landing sensor default to RUNNING: the code location is the deployment, and
a Dagster daemon (``dagster dev`` starts one) is what runs them; a schedule that has to be switched
on by hand in every new DAGSTER_HOME is a schedule that silently does not run. Stop them in the UI
(Automation) when you do not want them; the choice is stored in the instance.
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.jobs import daily_land_and_build, weekly_slo_snapshot

daily_land_and_build_schedule = dg.ScheduleDefinition(
    name="daily_land_and_build_schedule",
    job=daily_land_and_build,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 05:00 UTC: land new files and the register, then dbt build (not the weekly snapshot).",
)

weekly_slo_snapshot_schedule = dg.build_schedule_from_partitioned_job(
    weekly_slo_snapshot,
    name="weekly_slo_snapshot_schedule",
    day_of_week=1,  # Monday
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Mondays 06:00 UTC: the weekly SLO snapshot for the ISO week that just ended (partition = its Monday)."
    ),
)

SCHEDULES = (daily_land_and_build_schedule, weekly_slo_snapshot_schedule)
