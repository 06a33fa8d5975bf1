"""The weekly full check: what the nightly build leaves out, over the whole history.

The daily job builds with the dbt selector ``nightly`` (selectors.yml, orchestration/defs/dbt.py): its data
tests look at the rows landed since the last passing check, and the ledger gate
(int_load_ledger_mismatches) at the loads landed since then. Once a week this job runs
``dbt build --selector weekly_full_checks``: the ledger gate recomputed for every load, then every data
test over every row, so a violation in old data (a value changed outside landing, a duplicate between
two old rows) is found within a week. The dbt unit tests run in CI (``make test``), not here.

One op in the warehouse pool (one writer, like every dbt step), Sundays at 06:00 UTC (the daily build
is at 05:00, the weekly SLO snapshot Mondays at 06:00). A failing test fails the run and names the
tests; the warehouse keeps what the nightly build made (the ledger gate's table then lists the
mismatching loads, and the next daily build stops at the gate until they are explained).
"""
import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt import WEEKLY_FULL_CHECKS_SELECTOR, _environ, _uses_duckdb, fail_if_warehouse_busy
from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource

WEEKLY_FULL_CHECKS_ARGS = ("build", "--selector", WEEKLY_FULL_CHECKS_SELECTOR)


def build_full_checks_job(project) -> tuple[dg.JobDefinition, dg.ScheduleDefinition]:
    """The ``weekly_full_checks`` job and its schedule, for a dbt project (orchestration.defs.dbt)."""

    @dg.op(name="dbt_weekly_full_checks", pool=WAREHOUSE_POOL)
    def dbt_weekly_full_checks(context: dg.OpExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """``dbt build --selector weekly_full_checks``: every data test over the whole history."""
        if _uses_duckdb(project):
            fail_if_warehouse_busy(warehouse)
        with _environ(COMMAND_CENTER_DUCKDB=str(warehouse.path)):
            invocation = dbt.cli(list(WEEKLY_FULL_CHECKS_ARGS), raise_on_error=False).wait()
        results = (invocation.get_artifact("run_results.json") or {}).get("results", [])
        failed = sorted(r["unique_id"] for r in results if str(r.get("status")).lower() in ("error", "fail", "skipped"))
        context.log.info(f"weekly full check: {len(results)} nodes, {len(failed)} failed")
        if failed or not invocation.is_successful():
            raise dg.Failure(
                description="weekly full check failed: " + (", ".join(failed[:20]) or "dbt exited non-zero"),
                metadata={"failed": dg.MetadataValue.json(failed), "nodes": len(results)},
                allow_retries=False,
            )
        return len(results)

    @dg.job(
        name="weekly_full_checks",
        executor_def=dg.in_process_executor,
        description=(
            "Sundays: `dbt build --selector weekly_full_checks`: the ledger gate over every load and every data "
            "test over the whole history (the nightly build checks what landed since the last passing check)."
        ),
    )
    def weekly_full_checks():
        dbt_weekly_full_checks()

    schedule = dg.ScheduleDefinition(
        name="weekly_full_checks_schedule",
        job=weekly_full_checks,
        cron_schedule="0 6 * * 0",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Sundays at 06:00 UTC: every data test over the whole history (what the nightly build leaves out).",
    )
    return weekly_full_checks, schedule
