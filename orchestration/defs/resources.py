"""Dagster resources: the warehouse (DuckDB, or Snowflake for landing when the dbt target is
snowflake), the landing inputs (folder and register) and dbt.

Every default comes from ``orchestration.settings`` (environment variables resolved in one place),
so the Dagster assets, the CLI and dbt's ``profiles/profiles.yml`` all name the same DuckDB file
(``COMMAND_CENTER_DUCKDB``). A resource field left unset is resolved when it is used, so a process
that changes the environment (a test) and then rebuilds the definitions sees its own paths.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import Field

from orchestration.lib.snowflake_landing import SnowflakeLanding, open_snowflake_landing, uses_snowflake
from orchestration.lib.warehouse import open_warehouse
from orchestration.settings import get_settings

#: Dagster concurrency pool shared by every step that writes the DuckDB file. DuckDB allows one
#: writer per file; give this pool a limit of 1 on the instance (dagster.yaml:
#: ``concurrency: {pools: {default_limit: 1}}``) to serialise steps of concurrent runs too.
WAREHOUSE_POOL = "command_center_duckdb"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections come from ``orchestration.lib.warehouse.open_warehouse``
    (UTC session, raw schema ensured, a readable ``WarehouseBusyError`` when another process holds
    the write lock)."""

    duckdb_path: str | None = Field(
        default=None,
        description="Path of the DuckDB file; unset means COMMAND_CENTER_DUCKDB (settings.duckdb_path).",
    )

    dbt_target: str | None = Field(
        default=None,
        description="dbt target the warehouse is (duckdb or snowflake); unset: COMMAND_CENTER_DBT_TARGET.",
    )

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path) if self.duckdb_path else get_settings().duckdb_path

    @property
    def uses_snowflake(self) -> bool:
        """Whether landing writes to Snowflake (the dbt target is 'snowflake'): the same switch
        ``command-center ingest`` uses (orchestration.lib.snowflake_landing.uses_snowflake)."""
        return uses_snowflake(self.dbt_target or get_settings().dbt_target)

    @contextmanager
    def snowflake_landing(self) -> Iterator[SnowflakeLanding]:
        """The Snowflake sink (connection from the SNOWFLAKE_* environment), closed afterwards."""
        with open_snowflake_landing() as sink:
            yield sink

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open, yield and always close a connection. Keep it short: dbt needs the lock next."""
        with open_warehouse(self.path, read_only=read_only) as con:
            yield con


class LandingResource(dg.ConfigurableResource):
    """Where landing reads from: the landing folder and the governance register.

    The redaction salt is deliberately not a config field (config is shown in the UI and stored
    with every run): it is read from COMMAND_CENTER_REDACTION_SALT through settings.
    """

    landing_dir: str | None = Field(
        default=None,
        description="Folder whose event files are landed (recursively); unset: COMMAND_CENTER_LANDING_DIR.",
    )
    register_path: str | None = Field(
        default=None,
        description="The governance register YAML; unset: COMMAND_CENTER_REGISTER (command_center.yml).",
    )

    @property
    def folder(self) -> Path:
        return Path(self.landing_dir) if self.landing_dir else get_settings().landing_dir

    @property
    def register_file(self) -> Path:
        return Path(self.register_path) if self.register_path else get_settings().register_path

    @property
    def redaction_salt(self) -> str:
        return get_settings().redaction_salt


def dbt_cli_resource(project: DbtProject, dbt_executable: str = "dbt") -> DbtCliResource:
    """dbt run in the project directory (the repository root) with profiles/ and the settings' target."""
    return DbtCliResource(project_dir=project, dbt_executable=dbt_executable)
