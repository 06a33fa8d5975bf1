"""Jobs: what a run materializes. Schedules (schedules.py) and the landing sensor (sensors.py) only
request runs of these jobs; none of them touches the warehouse itself.

* ``land_new_files``: the governance register and the landing folder (``governance_register``,
  ``raw_workflow_events`` with its own great-expectations checks), no dbt. Started by
  ``landing_folder_sensor`` when files arrive.
* ``daily_land_and_build``: every asset except the weekly-partitioned ones: land, then the nightly
  build, ``dbt build --selector nightly`` (selectors.yml): staging, intermediate and marts with their
  data tests as asset checks, the whole-history tests replaced by their checks of what landed since
  the last passing check, no unit tests (CI runs them). Daily schedule, 05:00 UTC. Before dbt, the schema
  migration drops the incremental tables a release changed the columns of (orchestration/lib/migrations.py),
  and the build recreates them.
* ``weekly_full_checks`` (orchestration/defs/full_checks.py): every data test over the whole history
  and the ledger gate over every load. Sundays, 06:00 UTC.
* ``weekly_slo_snapshot``: the weekly-partitioned dbt assets (the SLO snapshot), one ISO week per
  run, with their tests and the week's markdown summary. Weekly schedule, Mondays 06:00 UTC, for
  the week that just ended; any past week by backfill (README, "Dagster").

The weekly assets are found by the ``partitioning: weekly`` tag the dbt translator derives from
the models' dbt meta (orchestration/defs/dbt.py), not by name.

One writer. DuckDB lets one process at a time hold a database file for writing, so:

1. Every job runs with the in-process executor: the steps of a run execute one after another in
   ONE process, each opening and closing its connection before the next (a dbt step hands the
   file to a single dbt subprocess, which exits before the step ends). The default multiprocess
   executor would run independent steps in parallel processes that collide on the lock. The cost,
   no parallelism across steps, buys nothing back on a single-file warehouse; dbt still builds
   models on the profile's threads inside its one process.
2. Every step that writes the file (the landing assets, both dbt multi-assets) is in the
   concurrency pool ``command_center_duckdb`` (orchestration.defs.resources.WAREHOUSE_POOL), and
   the instance's dagster.yaml (orchestration.settings.DAGSTER_YAML, written into a new
   DAGSTER_HOME) limits every pool to 1: steps of different runs (the sensor's landing run during
   the daily build, a backfill of several weeks) wait for each other instead of colliding.
3. A writer outside Dagster (``command-center ingest``/``build``, a DuckDB shell) is not in the
   pool: the step that meets it fails at once with ``WarehouseBusyError``'s message ("the warehouse
   ... is in use by another process") and writes nothing; DuckDB never interleaves two writers, so
   the file is not corrupted. Re-run the step when the other writer is done.

The Definitions' default executor is the in-process one too, so ad-hoc materializations from the UI
follow the same rule.
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt import PARTITIONING_TAG, WEEKLY
from orchestration.defs.landing import raw_workflow_events
from orchestration.defs.register import governance_register

#: The dbt assets partitioned by ISO week (and their checks).
WEEKLY_ASSETS = dg.AssetSelection.tag(PARTITIONING_TAG, WEEKLY)

_LANDING_DEFS = (governance_register, raw_workflow_events)
#: The two Python-landed assets with the checks they compute themselves (the great-expectations
#: suite on each landed batch). The dbt source tests on them are left out: they run inside the
#: dbt step, so selecting them would start dbt; the daily build runs them.
LANDING_ASSETS = dg.AssetSelection.assets(*_LANDING_DEFS).without_checks() | dg.AssetSelection.checks(
    *(key for assets_def in _LANDING_DEFS for key in assets_def.check_keys)
)

land_new_files = dg.define_asset_job(
    name="land_new_files",
    selection=LANDING_ASSETS,
    executor_def=dg.in_process_executor,
    description=(
        "Land the governance register and every new file of the landing folder (the load ledger skips "
        "files already landed). Started by landing_folder_sensor; no dbt."
    ),
)

daily_land_and_build = dg.define_asset_job(
    name="daily_land_and_build",
    selection=dg.AssetSelection.all() - WEEKLY_ASSETS,
    executor_def=dg.in_process_executor,
    description=(
        "Land the governance register and every new file of the landing folder, then `dbt build` the "
        "staging, intermediate and mart models with their tests (asset checks). Everything except the "
        "weekly-partitioned SLO snapshot. In-process executor: DuckDB allows one writer."
    ),
)

weekly_slo_snapshot = dg.define_asset_job(
    name="weekly_slo_snapshot",
    selection=WEEKLY_ASSETS,  # partitioned by the assets' WEEKLY_PARTITIONS
    executor_def=dg.in_process_executor,
    description=(
        "`dbt build` of the weekly SLO snapshot for one ISO week (partition key = its Monday, the dbt var "
        "snapshot_week) with its tests, and the week's SLO summary as materialization metadata."
    ),
)

JOBS = (land_new_files, daily_land_and_build, weekly_slo_snapshot)
