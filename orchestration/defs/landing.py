"""The ``raw_workflow_events`` asset: land every event file in the landing folder.

Each file goes through ``orchestration.lib.landing.land_file``, the code path the CLI's ``ingest``
uses, so the guarantees are the same (one transaction per file, exactly once per file content via
the load ledger, every row loaded or quarantined with a reason code, redaction). Discovering
files and landing a batch (`discover_landing_files`, `land_paths`) live in orchestration/lib/landing.py
and serve the CLI too.
"""

import os
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.checks import gx_check_results, gx_check_specs
from orchestration.defs.register import GOVERNANCE_REGISTER_KEY, load_register_or_fail
from orchestration.defs.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from orchestration.lib.landing import LandingBatch, discover_landing_files, land_paths, landing_options_for
from orchestration.lib.landing.common import printable
from orchestration.lib.landing.hints import hints_for_result
from orchestration.lib.register import register_sha256

RAW_WORKFLOW_EVENTS_KEY = dg.AssetKey("raw_workflow_events")

#: Per-file rows shown in the materialization's markdown table (all counts are always totals).
_MAX_FILES_SHOWN = 50


# --------------------------------------------------------------------------------------------------
# The asset
# --------------------------------------------------------------------------------------------------


def _relative(path: str, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path


def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _files_markdown(batch: LandingBatch, folder: Path) -> str:
    rows = [
        (_relative(r.file_path, folder), r.status, r.rows_read, r.rows_loaded, r.rows_quarantined,
         ", ".join(f"{k}={v}" for k, v in sorted(r.quarantine_reasons.items())))
        for r in batch.results
    ] + [(_relative(e.path, folder), "refused", "", "", "", e.problem) for e in batch.refused] + [
        (_relative(e.path, folder), "refused earlier, skipped", "", "", "", e.problem) for e in batch.refused_earlier
    ]
    if not rows:
        return "_no landable files in the landing folder_"
    lines = [
        "| file | status | read | loaded | quarantined | reasons / problem |",
        "|---|---|---:|---:|---:|---|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows[:_MAX_FILES_SHOWN]]
    if len(rows) > _MAX_FILES_SHOWN:
        hidden = len(rows) - _MAX_FILES_SHOWN
        lines.append(f"\n_{hidden} more files not shown; the totals count all of them._")
    return "\n".join(lines)


def _warehouse_totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    events, quarantined, files = con.execute(
        """select (select count(*) from raw.workflow_events),
                  (select count(*) from raw.quarantine),
                  (select count(*) from raw.load_ledger)"""
    ).fetchall()[0]  # fetchall: a half-read result would block the next query on this connection
    return {"events": events, "quarantined": quarantined, "ledger_files": files}


def landing_hints(batch: LandingBatch, folder: Path) -> dict[str, list[str]]:
    """Per landed file (relative path), the hints of orchestration/lib/landing/hints.py: the likely
    cause and fix when one reason quarantined more than 5% of the file (the CLI prints the same)."""
    return {_relative(r.file_path, folder): h for r in batch.landed if (h := hints_for_result(r))}


def landing_metadata(batch: LandingBatch, folder: Path, totals: dict[str, int], warehouse: Path | str) -> dict:
    hints = landing_hints(batch, folder)
    return {
        "landing_dir": dg.MetadataValue.path(str(folder)),
        "warehouse": dg.MetadataValue.path(str(warehouse)),
        "files_found": len(batch.results) + len(batch.refused) + len(batch.refused_earlier),
        "files_landed": len(batch.landed),
        "files_skipped": len(batch.skipped),
        "files_refused": len(batch.refused),
        "files_refused_earlier": len(batch.refused_earlier),
        "rows_read": batch.rows_read,
        "rows_loaded": batch.rows_loaded,
        "rows_quarantined": batch.rows_quarantined,
        "quarantine_reasons": dg.MetadataValue.json(batch.quarantine_reasons),
        "refused": dg.MetadataValue.json({_relative(e.path, folder): e.problem for e in batch.refused}),
        "files": dg.MetadataValue.md(_files_markdown(batch, folder)),
        "hints": dg.MetadataValue.md(
            "\n".join(f"- `{_md_cell(printable(f))}`: {_md_cell(h)}" for f, hs in hints.items() for h in hs)
            or "_no reason quarantined more than 5% of a file_"
        ),
        # the table's size after this landing (the dagster/row_count convention)
        "dagster/row_count": totals["events"],
        "quarantine_rows_total": totals["quarantined"],
        "ledger_files_total": totals["ledger_files"],
    }


def _land_on_snowflake(context, warehouse: WarehouseResource, landing: LandingResource, register, paths):
    """The dbt target is snowflake: the register and the files go to Snowflake, through the same
    land_file validation (orchestration/lib/snowflake_landing.py). The great-expectations checks
    validate each landed batch on the sink's DuckDB copy of exactly the rows it shipped."""
    with warehouse.snowflake_landing() as sink:
        sink.land_register(
            register, source_path=str(landing.register_file.resolve()), sha256=register_sha256(landing.register_file)
        )
        batch = sink.land_paths(
            paths, register=register, salt=landing.redaction_salt, log=context.log, remember_refusals=True,
            options_for=landing_options_for,
        )
        totals = sink.totals()
        check_results = gx_check_results(
            sink.landed_events, RAW_WORKFLOW_EVENTS_KEY, [(r.load_id, r.loaded_at) for r in batch.landed]
        ) if not batch.refused else []
    return batch, totals, check_results


def _check_redaction_salt(context, warehouse: WarehouseResource, landing: LandingResource, register) -> str | None:
    """The salt policy (orchestration.lib.landing.redaction.check_redaction_salt): a warning in the
    log (and the run's metadata) when the development salt is used; a failure, before anything lands,
    when the register requires a secret salt."""
    from orchestration.lib.landing.redaction import RedactionSaltError, check_redaction_salt
    from orchestration.settings import get_settings

    try:
        warning = check_redaction_salt(
            register, landing.redaction_salt, warehouse.dbt_target or get_settings().dbt_target
        )
    except RedactionSaltError as exc:
        raise dg.Failure(description=f"nothing landed: {exc}") from None
    if warning:
        context.log.warning(warning)
    return warning


@dg.asset(
    key=RAW_WORKFLOW_EVENTS_KEY,
    group_name="landing",
    deps=[GOVERNANCE_REGISTER_KEY],
    kinds={"python", "duckdb"},
    pool=WAREHOUSE_POOL,
    # great-expectations on each landed batch; error-severity checks block the dbt models downstream
    check_specs=gx_check_specs(RAW_WORKFLOW_EVENTS_KEY),
    description=(
        "Workflow events landed from the landing folder into raw.workflow_events, with raw.quarantine "
        "(rows that broke the event contract, with a reason code) and raw.load_ledger (one row per "
        "file; a file already in the ledger is skipped); governance logs (files in governance/) into "
        "raw.governance_actions. Same code path as `command-center ingest`."
    ),
)
def raw_workflow_events(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
) -> dg.MaterializeResult:
    """Land every file of the landing folder; fail at the end, naming each refused file.

    Files are landed in telemetry shape, except files under ``minimal/<workflow_id>/``, which are
    minimal event logs of that workflow (XES logs when ``.xes``/``.xes.gz``; docs/event-contract.md), and files
    directly in a ``governance/`` folder, governance logs (raw.governance_actions; docs/governance-log.md). A file refused for its content is
    recorded (raw.refused_files): this run fails naming it, later runs skip it with a warning so one
    bad file does not block every scheduled build; a corrected file (new bytes) lands normally.
    A refused file keeps nothing in the warehouse; the other files of the run are landed (and in the
    ledger) either way.
    """
    register = load_register_or_fail(landing.register_file)
    salt_warning = _check_redaction_salt(context, warehouse, landing, register)
    folder = landing.folder
    if not folder.is_dir():
        context.log.warning(f"landing folder {folder} does not exist; nothing to land")
    skipped_links: list[str] = []
    paths = discover_landing_files(folder, skipped=skipped_links)
    for skipped in skipped_links:
        context.log.warning(skipped)
    context.log.info(f"{len(paths)} landable file(s) under {printable(folder)}")
    if warehouse.uses_snowflake:
        batch, totals, check_results = _land_on_snowflake(context, warehouse, landing, register, paths)
        metadata = landing_metadata(batch, folder, totals, f"snowflake://{os.environ.get('SNOWFLAKE_DATABASE', '')}/raw")
    else:
        with warehouse.connect() as con:
            batch = land_paths(
                con, paths, register=register, salt=landing.redaction_salt, log=context.log, remember_refusals=True,
                options_for=landing_options_for, landing_run_id=context.run_id,
            )
            totals = _warehouse_totals(con)
            # validated on the landing connection: DuckDB refuses a second one to the file in this process
            check_results = gx_check_results(
                con, RAW_WORKFLOW_EVENTS_KEY, [(r.load_id, r.loaded_at) for r in batch.landed]
            ) if not batch.refused else []
        metadata = landing_metadata(batch, folder, totals, warehouse.path)
    metadata["redaction_salt"] = (
        "development default (COMMAND_CENTER_REDACTION_SALT unset)" if salt_warning else "secret (COMMAND_CENTER_REDACTION_SALT)"
    )
    for file, hints in landing_hints(batch, folder).items():
        for hint in hints:
            context.log.warning(f"hint: {printable(file)}: {hint}")
    if batch.refused:
        problems = "\n".join(f"  - {e}" for e in batch.refused)
        raise dg.Failure(
            description=(
                f"{len(batch.refused)} of {len(paths)} file(s) refused (nothing of them was kept; the other "
                f"{len(batch.results)} were landed or already in the ledger):\n{problems}"
            ),
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata, check_results=check_results)
