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
"""

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
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
from orchestration.lib.dbt import dbt_executable
from orchestration.settings import Settings

#: dbt source name -> the Dagster asset that lands all of that source's tables.
SOURCE_ASSET_KEYS: Mapping[str, dg.AssetKey] = {
    "raw": RAW_WORKFLOW_EVENTS_KEY,
    "governance": GOVERNANCE_REGISTER_KEY,
}

#: dbt project keys naming folders whose files end up in the manifest, with dbt's defaults.
_PROJECT_PATH_KEYS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "seed-paths": ["seeds"],
    "test-paths": ["tests"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
}
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv", ".py"}


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
    yield project.project_dir / "dbt_project.yml"
    yield project.profiles_dir / "profiles.yml"
    config = yaml.safe_load((project.project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    for key, default in _PROJECT_PATH_KEYS.items():
        for folder in config.get(key) or default:
            root = project.project_dir / folder
            if root.is_dir():
                yield from (p for p in root.rglob("*") if p.suffix in _PROJECT_FILE_SUFFIXES and p.is_file())


def manifest_is_stale(project: DbtProject) -> bool:
    """True when target/manifest.json is missing or older than a file dbt would parse."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.stat().st_mtime > built for p in project_source_files(project) if p.exists())


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
    with _environ(PATH=path):
        if using_dagster_dev():
            project.prepare_if_dev()
        elif manifest_is_stale(project):
            project.preparer.prepare(project)
    return project.manifest_path


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


def build_dbt_assets(
    project: DbtProject, translator: DagsterDbtTranslator | None = None
) -> dg.AssetsDefinition:
    """``@dbt_assets`` over the project's manifest (which must exist: see `ensure_manifest`)."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator or CommandCenterDbtTranslator(),
        name="command_center_dbt",
        pool=WAREHOUSE_POOL,
    )
    def command_center_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """``dbt build`` of the selected models and their tests, in one dbt process."""
        # profiles/profiles.yml reads the DuckDB file from COMMAND_CENTER_DUCKDB; hand the dbt
        # process the file this run's warehouse resource names, so dbt reads what landing wrote.
        with _environ(COMMAND_CENTER_DUCKDB=str(warehouse.path)):
            invocation = dbt.cli(["build"], context=context)
        yield from invocation.stream()

    return command_center_dbt
