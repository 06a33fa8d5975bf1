"""The retention purge in Dagster (orchestration/lib/retention.py, docs/residency.md).

* ``retention_purge_job``: one op, ``retention_purge``, that deletes the raw events and quarantine rows
  older than their region's retention and records the purge in its hash chain, in one transaction;
  when it deleted events, it then runs ``dbt build --full-refresh`` and publishes (the incremental
  models assume one retention boundary for the whole warehouse; the weekly SLO snapshot ignores
  --full-refresh and keeps its history). In-process executor and the warehouse pool, like every job
  that writes the DuckDB file (jobs.py: one writer). Config: ``dry_run`` (count only), ``as_of`` (ISO
  instant; default now, UTC), ``rebuild`` (default true).
* ``retention_purge_schedule``: every day at 04:30 UTC, half an hour before the daily build
  (05:00), so the build that follows rebuilds the marts from what is left; the weekly SLO snapshot
  keeps its past weeks (it never recomputes weeks outside its lookback).

On the Snowflake target the op purges nothing and says so (the purge runs on DuckDB only).
"""

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource


class RetentionPurgeConfig(dg.Config):
    dry_run: bool = False
    as_of: str | None = None
    #: after a purge that deleted events, `dbt build --full-refresh` and publish (the incremental marts
    #: assume one retention boundary for the whole warehouse; docs/residency.md)
    rebuild: bool = True


@dg.op(pool=WAREHOUSE_POOL, description="Delete expired raw events and quarantine rows per region; record it.")
def retention_purge(
    context: dg.OpExecutionContext, config: RetentionPurgeConfig, warehouse: WarehouseResource, landing: LandingResource,
) -> dg.Output[None]:
    from orchestration.lib.register import load_register
    from orchestration.lib.retention import parse_as_of, purge

    if warehouse.uses_snowflake:
        context.log.warning("the retention purge runs on the DuckDB warehouse only; nothing purged (docs/residency.md)")
        return dg.Output(None, metadata={"skipped": "snowflake target"})
    register = load_register(landing.register_file)
    as_of = parse_as_of(config.as_of) if config.as_of else None
    with warehouse.connect() as con:
        result = purge(con, register, as_of=as_of, dry_run=config.dry_run, run_id=context.run_id)
    for line in result.lines():
        context.log.info(line)
    rebuilt = False
    if config.rebuild and not config.dry_run:
        from dataclasses import replace

        from orchestration.lib.retention import rebuild_after_purge
        from orchestration.settings import get_settings

        rebuilt = rebuild_after_purge(replace(get_settings(), duckdb_path=warehouse.path), log=context.log.info)
    return dg.Output(None, metadata={
        "purge_id": result.purge_id or "(dry run)",
        "as_of": f"{result.as_of:%Y-%m-%d %H:%M:%S}",
        "events_purged": result.events_purged,
        "quarantine_purged": result.quarantine_purged,
        "dry_run": result.dry_run,
        "rebuilt": rebuilt,
        "summary": dg.MetadataValue.json(result.summary),
    })


@dg.job(
    executor_def=dg.in_process_executor,
    description=(
        "Delete raw events and quarantine rows older than their region's retention (data_controls.residency, else "
        "telemetry.retention_days) in one transaction, recorded in the retention_purges hash chain. In-process: one writer."
    ),
)
def retention_purge_job() -> None:
    retention_purge()


retention_purge_schedule = dg.ScheduleDefinition(
    name="retention_purge_schedule",
    job=retention_purge_job,
    cron_schedule="30 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 04:30 UTC (before the 05:00 build): the retention purge.",
)
