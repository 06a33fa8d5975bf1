"""Alert dispatch in Dagster: the ``alerting/alert_dispatch`` asset, its job and its sensor.

* ``alert_dispatch`` (group ``alerting``) reads ``marts.fct_alert_episodes`` and tells each new
  alert episode to its owner exactly once (orchestration/lib/alerting, docs/alerting.md): the
  outbox tables in the warehouse, the JSON Lines file, the webhook when
  ``COMMAND_CENTER_ALERT_WEBHOOK_URL`` is set. It depends on the episodes mart (when the manifest
  has it), so in ``daily_land_and_build`` it runs after the dbt step; it writes the warehouse, so it
  is in the warehouse pool (one writer: never beside dbt). Its config ``send_digest`` (default true)
  also sends the daily digest: the daily job's run is the daily digest.
* ``dispatch_alerts``: a job of that asset alone.
* ``alert_dispatch_sensor``: on each new materialization of the episodes mart by a run that does not
  dispatch itself (e.g. a dbt asset materialized from the UI), one ``dispatch_alerts`` run with
  ``send_digest: false`` (new pages go out at once; the digest waits for the daily run). Run key =
  the materializing run, so a re-evaluation starts nothing twice; the outbox makes a second
  dispatch a no-op anyway.
"""
from collections.abc import Iterable

import dagster as dg
from pydantic import Field

from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource

ALERT_EPISODES_KEY = dg.AssetKey(["marts", "fct_alert_episodes"])
ALERT_DISPATCH_KEY = dg.AssetKey(["alerting", "alert_dispatch"])
ALERT_DISPATCH_OP = "alerting__alert_dispatch"


class AlertDispatchConfig(dg.Config):
    send_digest: bool = Field(
        default=True,
        description="Also send the daily digest (queued non-paging alerts, one message per owner). "
        "The daily job sends it; the sensor's runs do not.",
    )


def build_alert_dispatch_asset(upstream: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    """The dispatch asset, after the episodes mart when ``upstream`` (the dbt assets' keys) holds it."""
    deps = [ALERT_EPISODES_KEY] if ALERT_EPISODES_KEY in set(upstream) else []

    @dg.asset(
        key=ALERT_DISPATCH_KEY,
        group_name="alerting",
        deps=deps,
        pool=WAREHOUSE_POOL,
        kinds={"python", "duckdb"},
        description=(
            "Dispatch each new alert episode of marts.fct_alert_episodes exactly once: outbox tables "
            "(alerting.outbox, alerting.outbox_attempts), JSON Lines file, Slack-compatible webhook with "
            "bounded retries; non-paging alerts within budget go to the daily per-owner digest (docs/alerting.md)."
        ),
    )
    def alert_dispatch(context: dg.AssetExecutionContext, config: AlertDispatchConfig, warehouse: WarehouseResource):
        from orchestration.lib.alerting import EpisodesNotBuiltError, dispatch_warehouse
        from orchestration.lib.alerting.config import config_from_env
        from orchestration.lib.warehouse import WarehouseBusyError

        if warehouse.uses_snowflake:
            return dg.MaterializeResult(metadata={"skipped": "dispatch runs on the DuckDB target only"})
        settings = config_from_env(warehouse.path)
        try:
            result = dispatch_warehouse(warehouse.path, send_digest=config.send_digest, config=settings)
        except (EpisodesNotBuiltError, WarehouseBusyError) as exc:
            raise dg.Failure(description=f"no dispatch: {exc}") from None
        context.log.info(result.summary())
        if result.sent["failed_permanent"] or result.sent["retrying"]:
            context.log.warning("some messages were not delivered: `command-center alerts list --state "
                                "failed_permanent` / `--state retrying` says why")
        return dg.MaterializeResult(metadata={
            "episodes": result.episodes,
            "new_messages": result.new_messages,
            "digests": result.digests,
            "delivered": result.sent["delivered"],
            "retrying": result.sent["retrying"],
            "failed_permanent": result.sent["failed_permanent"],
            "recovered_attempts": result.recovered_attempts,
            "webhook": "configured" if settings.has_webhook else "none (outbox file only)",
            "outbox_file": dg.MetadataValue.path(str(settings.outbox_file)),
            "send_digest": config.send_digest,
        })

    return alert_dispatch


dispatch_alerts = dg.define_asset_job(
    name="dispatch_alerts",
    selection=dg.AssetSelection.assets(ALERT_DISPATCH_KEY),
    executor_def=dg.in_process_executor,
    description="Dispatch new alert episodes (no dbt). Started by alert_dispatch_sensor.",
)


def _run_dispatches(context: dg.SensorEvaluationContext, run: dg.DagsterRun) -> bool:
    """Whether ``run`` materializes alert_dispatch itself: its asset selection, else its job's assets."""
    if run.asset_selection:  # a subset; a whole job's run has an empty selection
        return ALERT_DISPATCH_KEY in run.asset_selection
    repo = context.repository_def
    if repo is None or not repo.has_job(run.job_name):
        return False
    return ALERT_DISPATCH_KEY in repo.get_job(run.job_name).asset_layer.selected_asset_keys


@dg.asset_sensor(
    name="alert_dispatch_sensor",
    asset_key=ALERT_EPISODES_KEY,
    job=dispatch_alerts,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each new build of marts.fct_alert_episodes, dispatch its new episodes (no digest), "
    "unless the build's own run dispatches them (the daily job).",
)
def alert_dispatch_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    run = context.instance.get_run_by_id(asset_event.run_id)
    if run is not None and _run_dispatches(context, run):
        return dg.SkipReason(f"run {asset_event.run_id} dispatches the alerts itself")
    return dg.RunRequest(
        run_key=f"episodes-built-by:{asset_event.run_id}",
        run_config=dg.RunConfig(ops={ALERT_DISPATCH_OP: AlertDispatchConfig(send_digest=False)}),
    )
