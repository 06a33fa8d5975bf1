"""The dbt project as Dagster assets (dagster-dbt ``@dbt_assets`` over the project's manifest).

* Keys: dbt's defaults (``<schema>/<model>``, e.g. ``marts/fct_workflow_runs``, the relation the
  model builds), except the dbt sources that Python lands: every table of the ``raw`` source is the
  ``raw_workflow_events`` asset and every table of the ``governance`` source is the
  ``governance_register`` asset, so the lineage is one graph from the files to the marts.
* Groups: the first folder of the node's dbt ``fqn`` (``models/staging/...`` -> ``staging``,
  ``intermediate``, ``marts``); a ``meta.dagster.group`` or dbt ``group`` config still wins. No model
  name appears in this file.
* dbt tests are asset checks on the model they test (the dagster-dbt default); ``dbt build`` runs
  them right after their model. Tests on the raw/governance sources are checks on the landing
  asset their source maps to (non-blocking, see `CommandCenterDbtTranslator.get_asset_check_spec`).
  A singular test that refs several models becomes a check only when it names its model with
  ``config(meta={'dagster': {'ref': {'name': '<model>'}}})``; otherwise dagster-dbt logs it as an
  observation (it still runs, and its failure still fails the dbt step).

The manifest (``target/manifest.json``) must exist before the definitions load: ``command-center
parse`` (run by ``make dagster``) writes it, ``dagster dev`` re-parses on every code reload
(``DbtProject.prepare_if_dev``), and any other loader (tests, ``dagster definitions validate``,
``dagster job execute``) runs ``dbt parse`` itself when the manifest is missing or older than the
project's files (`ensure_manifest`).

Partitioned models. A model whose dbt config says ``meta: {dagster: {partitioning: weekly}}`` (set
by folder in dbt_project.yml: today the models/marts/slo folder, i.e. the weekly SLO snapshot) is
not part of the daily build: the main ``@dbt_assets`` (`build_dbt_assets`) excludes the selector
`WEEKLY_SELECT` and a second ``@dbt_assets`` over the same manifest (`build_weekly_dbt_assets`)
selects it, partitioned by ISO week (`WEEKLY_PARTITIONS`: weeks start Monday 00:00 UTC, partition
key = the Monday ``YYYY-MM-DD`` = the model's dbt var ``snapshot_week``). Its run ``dbt build``s
exactly that week with the model's tests as checks, then (after dbt has exited and released the
DuckDB write lock) reads the week back read-only and attaches a markdown summary to the
materialization when the model's meta also says ``summary: slo_weekly``
(orchestration/lib/slo_summary.py). Neither selector nor summary names a model.

Schema migration. On DuckDB the nightly asset first drops the incremental tables whose columns differ
from their model's contract (a release added a column: ``on_schema_change: fail`` would stop the build),
logging which and why (old vs declared columns), and the build recreates them from scratch
(`migrate_schema`, orchestration/lib/migrations.py). An up-to-date warehouse costs one information_schema
query, no dbt invocation.

Publishing. After dbt exits successfully, both dbt assets copy the marts to the read-only published
DuckDB file BI tools read (`publish_for_readers`, orchestration/lib/publish.py); a failed dbt step
publishes nothing, so readers keep the last good copy. Nothing is published on the Snowflake target.
"""

import fcntl
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.defs.landing import RAW_WORKFLOW_EVENTS_KEY
from orchestration.defs.register import GOVERNANCE_REGISTER_KEY
from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.lib.dbt import dbt_executable, manifest_outdated, project_files
from orchestration.lib.migrations import MigrationPlan, apply_migrations, plan_migrations
from orchestration.lib.publish import publish_marts
from orchestration.lib.slo_summary import (
    SUMMARY_COLUMNS,
    parse_week,
    relation,
    snapshot_week_vars,
    summary_counts,
    summary_markdown,
    summary_query,
)
from orchestration.lib.warehouse import WarehouseBusyError
from orchestration.settings import ConfigError, Settings

#: dbt source name -> the Dagster asset that lands all of that source's tables.
SOURCE_ASSET_KEYS: Mapping[str, dg.AssetKey] = {
    "raw": RAW_WORKFLOW_EVENTS_KEY,
    "governance": GOVERNANCE_REGISTER_KEY,
}

#: The dbt meta that partitions a model (``config.meta.dagster.partitioning``) and its one value so far.
WEEKLY = "weekly"
SUPPORTED_PARTITIONINGS = frozenset({WEEKLY})
#: dbt selector of the weekly-partitioned models (dbt's ``config.`` method walks into meta).
WEEKLY_SELECT = f"config.meta.dagster.partitioning:{WEEKLY}"
#: The nightly build (selectors.yml): every model but the weekly-partitioned ones, the data tests in their
#: nightly scope; no unit tests (CI runs them), no whole-history tests (the weekly full check runs them).
#: The daily job's dbt step runs it, and so does the benchmark's incremental step (orchestration/bench).
NIGHTLY_SELECTOR = "nightly"
#: The weekly full check (selectors.yml): every data test over the whole history, the ledger gate over every load.
WEEKLY_FULL_CHECKS_SELECTOR = "weekly_full_checks"
#: ``config.meta.dagster.summary`` value that asks for the weekly SLO summary on the materialization.
SLO_WEEKLY_SUMMARY = "slo_weekly"
#: Asset tag carried by every partitioned dbt asset (jobs select the weekly assets by it).
PARTITIONING_TAG = "partitioning"

#: ISO weeks, Monday 00:00 UTC to the next Monday; the key is the Monday (``2026-11-16``), which is
#: the snapshot model's dbt var ``snapshot_week``. The first partition is the first ISO week of
#: 2025, well before the history the demo and the tests generate (move it back to backfill older
#: data); the last is the last week that has ended (``end_offset`` 0): a running week is not a
#: partition, its figures are not final.
WEEKLY_PARTITIONS = dg.WeeklyPartitionsDefinition(
    start_date="2025-01-06", day_offset=1, hour_offset=0, timezone="UTC"
)


# --------------------------------------------------------------------------------------------------
# The project and its manifest
# --------------------------------------------------------------------------------------------------


def build_dbt_project(settings: Settings) -> DbtProject:
    return DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_profiles_dir,
        target=settings.dbt_target,
    )


def project_source_files(project: DbtProject) -> Iterator[Path]:
    """dbt_project.yml, profiles.yml and every project file dbt parses (per dbt_project.yml's paths)."""
    return project_files(project.project_dir, project.profiles_dir)


def manifest_is_stale(project: DbtProject) -> bool:
    """True when target/manifest.json is missing or older than a file dbt would parse."""
    return manifest_outdated(Path(project.manifest_path), project.project_dir, project.profiles_dir)


def ensure_manifest(project: DbtProject) -> Path:
    """Make ``project.manifest_path`` loadable and current; returns it.

    Under ``dagster dev`` this is dagster-dbt's ``prepare_if_dev`` (``dbt parse`` on every load, so
    model edits show up on "Reload definitions"). Elsewhere it parses only when the manifest is
    missing or stale, so a deployed or CI load with a fresh manifest pays nothing. A project that
    does not parse raises here, with dbt's error, and the code location fails to load.
    """
    # dagster-dbt's preparer runs `dbt` from PATH: make it this environment's dbt while it runs.
    path = os.environ.get("PATH", "")
    executable = Path(dbt_executable())
    if executable.is_absolute():
        path = os.pathsep.join([str(executable.parent), path])
    with _environ(PATH=path), _manifest_lock(project):
        if using_dagster_dev():
            project.prepare_if_dev()
        elif manifest_is_stale(project):
            project.preparer.prepare(project)
    return project.manifest_path


@contextmanager
def _manifest_lock(project: DbtProject) -> Iterator[None]:
    """One process at a time checks and re-parses target/manifest.json (an exclusive lock on a file
    beside it, released when the file closes, even if the process dies): another one (a second pytest
    worker, a CLI job beside `dagster dev`) waits, then finds it fresh, and never reads it half-written."""
    lock = Path(project.manifest_path).with_name(".manifest.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --------------------------------------------------------------------------------------------------
# Translator
# --------------------------------------------------------------------------------------------------


def group_from_fqn(dbt_resource_props: Mapping[str, Any]) -> str:
    """The node's top folder inside its resource path: models/marts/runs/x.sql -> 'marts'.

    fqn is [package, *folders, name]; nodes at the top of their path fall back to their resource
    type ('seeds', 'snapshots', ...). Group names may hold only letters, digits and '_'.
    """
    fqn = list(dbt_resource_props.get("fqn") or [])
    folders = fqn[1:-1]
    name = folders[0] if folders else f"{dbt_resource_props.get('resource_type', 'dbt')}s"
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def dagster_meta(dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The node's ``meta.dagster`` (config meta first, as dbt >= 1.10 writes it)."""
    meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta") or {}
    return meta.get("dagster") or {}


def partitioning_of(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """``meta.dagster.partitioning`` of a node (None: not partitioned); ValueError if unsupported."""
    value = dagster_meta(dbt_resource_props).get("partitioning")
    if value is not None and value not in SUPPORTED_PARTITIONINGS:
        raise ValueError(
            f"{dbt_resource_props.get('original_file_path') or dbt_resource_props.get('unique_id')}: "
            f"meta.dagster.partitioning {value!r} is not supported (supported: {', '.join(sorted(SUPPORTED_PARTITIONINGS))})"
        )
    return value


def partitioned_nodes(manifest: Mapping[str, Any], partitioning: str = WEEKLY) -> dict[str, Mapping[str, Any]]:
    """``{unique_id: node}`` of the models with that partitioning; validates every node's value."""
    found = {}
    for unique_id, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") in ("model", "seed", "snapshot") and partitioning_of(node) == partitioning:
            found[unique_id] = node
    return found


def load_manifest(project: DbtProject) -> Mapping[str, Any]:
    return json.loads(Path(project.manifest_path).read_text(encoding="utf-8"))


class CommandCenterDbtTranslator(DagsterDbtTranslator):
    """Keys and groups derived from the manifest (source names, fqn folders), never from model names."""

    def __init__(self, source_asset_keys: Mapping[str, dg.AssetKey] = SOURCE_ASSET_KEYS):
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # several tables of one dbt source map to one landing asset
                enable_duplicate_source_asset_keys=True,
                # raw/governance source tests become checks on the landing assets
                enable_source_tests_as_checks=True,
            )
        )
        self._source_asset_keys = dict(source_asset_keys)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta") or {}
        explicit = meta.get("dagster", {}).get("asset_key")
        if dbt_resource_props["resource_type"] == "source" and not explicit:
            key = self._source_asset_keys.get(dbt_resource_props["source_name"])
            if key is not None:
                return key
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return super().get_group_name(dbt_resource_props) or group_from_fqn(dbt_resource_props)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        """dbt tags (the dagster-dbt default) plus ``partitioning: weekly`` on partitioned models."""
        tags = dict(super().get_tags(dbt_resource_props))
        partitioning = partitioning_of(dbt_resource_props)
        if partitioning:
            tags[PARTITIONING_TAG] = partitioning
        return tags

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.asset_key not in self._source_asset_keys.values():
            return spec
        # A test of a raw/governance source is a check on a landing asset, executed by the dbt step.
        # Blocking it would make the landing assets wait for the dbt step, which waits for them: a
        # cycle Dagster breaks by running dbt twice per job. dbt build itself still skips every
        # model downstream of a failing source test.
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            blocking=False,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
            partitions_def=spec.partitions_def,
        )


# --------------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------------


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _uses_duckdb(project: DbtProject) -> bool:
    return (project.target or "duckdb") == "duckdb"


def fail_if_warehouse_busy(warehouse: WarehouseResource) -> None:
    """Fail the step now, with a readable message, when another process holds the DuckDB write lock.

    dbt would fail too, later and with dbt-duckdb's "Could not set lock on file" buried in its log.
    (A writer that starts between this check and dbt still makes dbt fail cleanly: DuckDB refuses
    the second writer, it never interleaves writes.)
    """
    try:
        with warehouse.connect():
            pass
    except WarehouseBusyError as exc:
        raise dg.Failure(description=str(exc), allow_retries=True) from None


def build_dbt_assets(
    project: DbtProject, translator: DagsterDbtTranslator | None = None
) -> dg.AssetsDefinition:
    """``@dbt_assets`` of the nightly build: the dbt selector `NIGHTLY_SELECTOR` (selectors.yml), every model
    except the partitioned ones, with the nightly build's data tests as asset checks.

    The manifest must exist (see `ensure_manifest`).
    """

    translator = translator or CommandCenterDbtTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name="command_center_dbt",
        selector=NIGHTLY_SELECTOR,
        pool=WAREHOUSE_POOL,
    )
    def command_center_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """The schema migration (DuckDB), then ``dbt build`` of the selected models and their tests, in one
        dbt process."""
        if _uses_duckdb(project):
            fail_if_warehouse_busy(warehouse)
            migrate_schema(context, warehouse, load_manifest(project), translator)
        # profiles/profiles.yml reads the DuckDB file from COMMAND_CENTER_DUCKDB; hand the dbt
        # process the file this run's warehouse resource names, so dbt reads what landing wrote.
        with _environ(COMMAND_CENTER_DUCKDB=str(warehouse.path)):
            invocation = dbt.cli(["build"], context=context)
        yield from invocation.stream()  # raises when dbt fails: nothing is published then
        if _uses_duckdb(project):
            publish_for_readers(context, warehouse)

    return command_center_dbt


def migrate_schema(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
) -> list[str]:
    """Before the build: drop the incremental tables whose columns differ from their model's contract
    (orchestration/lib/migrations.py), logging which and why; the build recreates them from scratch.
    Only the models this run materializes: a table left out of the run's selection is reported, not
    dropped (it would stay missing). Returns the relations dropped."""
    with warehouse.connect() as con:
        plan = plan_migrations(manifest, con)
        if not plan:
            return []
        selected = context.selected_asset_keys
        nodes = manifest.get("nodes", {})
        in_run = tuple(m for m in plan.migrations if translator.get_asset_key(nodes[m.unique_id]) in selected)
        left_out = [m.relation for m in plan.migrations if m not in in_run]
        if left_out:
            context.log.warning(
                f"schema migration: {', '.join(left_out)} differ from their model's contract but are not in this "
                "run's selection: not migrated (the next daily build migrates them)"
            )
        if not in_run:
            return []
        plan = MigrationPlan(in_run, plan.unchecked)
        context.log.warning(plan.describe())
        return apply_migrations(con, plan)


def publish_for_readers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
    """After a successful dbt build (dbt has exited): copy the marts to the read-only published file
    BI tools read (orchestration/lib/publish.py). A failure fails the step; the marts are built."""
    try:
        published = publish_marts(warehouse.path)
    except (WarehouseBusyError, ConfigError, OSError, duckdb.Error) as exc:
        raise dg.Failure(description=f"dbt build succeeded but publishing the marts failed: {exc}") from None
    context.log.info(published.describe() if published else "no marts in the warehouse yet: nothing published")


def _metadata_text(metadata: Mapping[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return getattr(value, "value", value) if value is not None else None


def slo_summary_metadata(
    warehouse: WarehouseResource, node: Mapping[str, Any], partition_key: str
) -> dict[str, Any]:
    """The week's summary metadata, read back from the model's relation (schema + alias from the
    manifest node) on a read-only connection. Call it only after dbt has exited."""
    week = parse_week(partition_key)
    schema, identifier = node["schema"], node.get("alias") or node["name"]
    with warehouse.connect(read_only=True) as con:
        cur = con.execute(summary_query(schema, identifier), [week])
        rows = [dict(zip(SUMMARY_COLUMNS, r, strict=True)) for r in cur.fetchall()]
        (total,) = con.execute(f"select count(*) from {relation(schema, identifier)}").fetchone()
    counts = summary_counts(rows)
    return {
        "summary": dg.MetadataValue.md(summary_markdown(week, rows)),
        "week_start": week.isoformat(),
        "workflows": counts["workflows"],
        "slo_breaches": counts["breaches"],
        "measured_slos": counts["measured_slos"],
        "dagster/partition_row_count": counts["rows"],
        "dagster/row_count": total,
    }


def build_weekly_dbt_assets(
    project: DbtProject,
    translator: DagsterDbtTranslator | None = None,
    partitions_def: dg.PartitionsDefinition = WEEKLY_PARTITIONS,
) -> dg.AssetsDefinition:
    """``@dbt_assets`` of the weekly-partitioned models (`WEEKLY_SELECT`).

    One run per partition (``BackfillPolicy.multi_run(1)``): each week is its own ``dbt build
    --vars '{snapshot_week: <Monday>}'``, so a backfill of ten weeks is ten runs that the warehouse
    pool serialises. The models' dbt unit tests are run first, without the var (their fixtures
    pick their own weeks; the command-line var would override them), and then excluded from the
    build.
    """
    manifest = load_manifest(project)
    nodes = partitioned_nodes(manifest, WEEKLY)
    if not nodes:
        raise ValueError(
            f"no dbt model has meta.dagster.partitioning: {WEEKLY} (dbt_project.yml sets it on models/marts/slo); "
            "the weekly_slo_snapshot job and schedule need at least one"
        )
    summarized = {uid for uid, node in nodes.items() if dagster_meta(node).get("summary") == SLO_WEEKLY_SUMMARY}
    translator = translator or CommandCenterDbtTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name="command_center_dbt_weekly",
        select=WEEKLY_SELECT,
        exclude="resource_type:unit_test",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
        pool=WAREHOUSE_POOL,
    )
    def command_center_dbt_weekly(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """Unit tests, then ``dbt build`` of one ISO week (the partition) with the models' tests;
        the SLO summary of the week is attached to the materialization once dbt has exited."""
        partition_key = context.partition_key
        dbt_vars = snapshot_week_vars(partition_key)
        context.log.info(f"building ISO week {partition_key} (dbt --vars {json.dumps(dbt_vars)})")
        if _uses_duckdb(project):
            fail_if_warehouse_busy(warehouse)
        with _environ(COMMAND_CENTER_DUCKDB=str(warehouse.path)):
            unit = dbt.cli(
                ["test", "--select", WEEKLY_SELECT, "--resource-type", "unit_test"], raise_on_error=False
            )
        if not unit.is_successful():
            raise dg.Failure(
                description=f"dbt unit tests of the weekly models failed; nothing was built.\n{unit.get_error()}",
                allow_retries=False,
            )
        with _environ(COMMAND_CENTER_DUCKDB=str(warehouse.path)):
            invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context, raise_on_error=False)

        held = yield from _stream_holding(context, invocation.stream(), summarized)
        # dbt has exited: the write lock is free for the read-only summary query
        for event in held:
            if isinstance(event, dg.Output):
                unique_id = _metadata_text(event.metadata, "unique_id")
                try:
                    extra = slo_summary_metadata(warehouse, nodes[unique_id], partition_key)
                except Exception as exc:  # the data is built; a failed summary must not hide that
                    context.log.warning(f"no SLO summary for {unique_id}: {exc}")
                    extra = {"summary_error": str(exc)}
                event = event.with_metadata({**event.metadata, **extra})
            yield event
        error = invocation.get_error()
        if error is not None:
            raise error
        if _uses_duckdb(project):
            publish_for_readers(context, warehouse)

    return command_center_dbt_weekly


def _stream_holding(
    context: dg.AssetExecutionContext, events: Iterable[Any], unique_ids: set[str]
) -> Iterator[Any]:
    """Yield the dbt events as they come, except the Outputs of ``unique_ids`` and the check results
    on their assets, which are returned (in order) so that metadata can be added to the Outputs
    after dbt has exited. Checks stay after their asset's Output, so each evaluates the new
    materialization."""
    held: list[Any] = []
    held_keys: set[dg.AssetKey] = set()
    for event in events:
        if isinstance(event, dg.Output) and _metadata_text(event.metadata, "unique_id") in unique_ids:
            held.append(event)
            held_keys.add(context.assets_def.keys_by_output_name[event.output_name])
        elif isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation) and event.asset_key in held_keys:
            held.append(event)
        else:
            yield event
    return held
