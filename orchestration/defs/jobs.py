"""Jobs. Schedules and sensors that launch them will live beside them.

``land_and_build`` materializes every asset (and runs the dbt tests as asset checks) one step after
another in ONE process, with the in-process executor. Why: DuckDB lets one process at a time hold a
database file for writing. The default multiprocess executor runs each step in its own process, so
two steps that do not depend on each other (none today, but a later asset or check may not depend
on the others) would open the file at the same time and one would fail with ``WarehouseBusyError``.
In one process the steps run strictly in order, each opening and closing its connection before the
next (the dbt step hands the file to a single dbt subprocess). The cost, no parallelism across
steps, buys nothing back on a single-file DuckDB warehouse anyway; dbt still builds models on the
profile's threads inside its one process. The Definitions use the same executor by default, so ad-hoc
materializations from the UI follow the same rule; separate runs are serialised by the
``command_center_duckdb`` concurrency pool (see orchestration.defs.resources.WAREHOUSE_POOL).
"""
from __future__ import annotations

import dagster as dg

land_and_build = dg.define_asset_job(
    name="land_and_build",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description=(
        "Land the governance register and every new file of the landing folder, then `dbt build` the "
        "staging, intermediate and mart models with their tests. In-process executor: DuckDB allows "
        "one writer, so the steps run one after another in one process."
    ),
)
