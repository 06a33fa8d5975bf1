"""Query the dbt semantic layer (MetricFlow, models/semantic/) on a DuckDB file, through MetricFlow's
Python API: no `mf` CLI, no dbt adapter, nothing fetched from the network.

Why not the `mf` CLI: dbt-metricflow's CLI asks PyPI for a newer version of itself on every
invocation (the `update_checker` package, a GET to pypi.org with no switch to turn it off), and it
opens the warehouse through the dbt adapter for writing. Here the semantic manifest dbt writes
(`target/semantic_manifest.json`, by `dbt parse` or any build) is loaded as it is, MetricFlow
renders its DuckDB SQL, and the SQL runs on a read-only DuckDB connection with the file attached
under the catalog name the manifest records (``command_center``, the stem of the warehouse file dbt
parsed with), so the warehouse or its published copy (the marts only: queries that need the time
spine must use the warehouse) both work.
MetricFlow's own telemetry only writes to a Python logger (metricflow.telemetry), and the CLI is
not used.
"""
from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

_NO_PARAMETERS = SqlBindParameterSet()


class SemanticLayerError(RuntimeError):
    """The semantic layer cannot answer: no semantic manifest, or a query MetricFlow rejects."""


class ReadOnlyDuckDbSqlClient:
    """MetricFlow's SqlClient protocol over a read-only DuckDB connection (queries only)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> DuckDbSqlPlanRenderer:
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS
              ) -> MetricFlowDataTable:
        cursor = self._connection.execute(stmt, _bind_parameters(sql_bind_parameter_set))
        columns = [column[0] for column in cursor.description]
        rows = [tuple(_cell(value) for value in row) for row in cursor.fetchall()]
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        self._connection.execute(stmt, _bind_parameters(sql_bind_parameter_set))

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        self._connection.execute(f"explain {stmt}", _bind_parameters(sql_bind_parameter_set))

    def close(self) -> None:
        self._connection.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _bind_parameters(parameters: SqlBindParameterSet) -> dict[str, Any] | None:
    values = {key: value.union for key, value in parameters.param_dict.items()}
    return values or None


def _cell(value: Any) -> Any:
    """DuckDB values MetricFlow's table accepts: decimals as floats, dates as midnight datetimes."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day)
    return value


def load_semantic_manifest(target_path: Path):
    """The semantic manifest dbt wrote into ``target_path`` (``dbt parse`` writes it)."""
    path = Path(target_path) / "semantic_manifest.json"
    if not path.is_file():
        raise SemanticLayerError(f"no semantic manifest at {path}: run `command-center parse` (dbt parse) first")
    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=path.read_text())


@dataclass
class SemanticLayer:
    """A MetricFlow engine on one DuckDB file. ``query`` returns rows as dicts (column -> value)."""

    engine: MetricFlowEngine

    def request(self, metrics: Sequence[str] = (), group_by: Sequence[str] = (), *,
                saved_query: str | None = None, where: Sequence[str] = ()) -> MetricFlowQueryRequest:
        return MetricFlowQueryRequest.create(
            saved_query_name=saved_query,
            metric_names=list(metrics) or None,
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
        )

    def query(self, metrics: Sequence[str] = (), group_by: Sequence[str] = (), *,
              saved_query: str | None = None, where: Sequence[str] = ()) -> list[dict[str, Any]]:
        result = self.engine.query(self.request(metrics, group_by, saved_query=saved_query, where=where))
        table = result.result_df
        if table is None:
            return []
        names = list(table.column_names)
        return [dict(zip(names, row, strict=True)) for row in table.rows]

    def sql(self, metrics: Sequence[str] = (), group_by: Sequence[str] = (), *,
            saved_query: str | None = None, where: Sequence[str] = ()) -> str:
        """The SQL MetricFlow runs for the query (DuckDB dialect)."""
        explained = self.engine.explain(self.request(metrics, group_by, saved_query=saved_query, where=where))
        return explained.sql_statement.sql


@contextmanager
def open_semantic_layer(duckdb_path: Path, target_path: Path) -> Iterator[SemanticLayer]:
    """The semantic layer over ``duckdb_path`` (opened read-only), from the manifest in ``target_path``."""
    manifest = load_semantic_manifest(target_path)
    catalog = manifest_catalog(manifest)
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"attach '{_sql_path(duckdb_path)}' as \"{catalog}\" (read_only)")
        client = ReadOnlyDuckDbSqlClient(connection)
        engine = MetricFlowEngine(semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=client)
        yield SemanticLayer(engine)
    finally:
        connection.close()


def manifest_catalog(manifest) -> str:
    """The one DuckDB catalog (database) the manifest's relations name: the stem of the file dbt was
    configured with when it parsed (``command_center`` for the default warehouse)."""
    relations = [model.node_relation for model in manifest.semantic_models]
    relations += [spine.node_relation for spine in manifest.project_configuration.time_spines]
    catalogs = {relation.database for relation in relations if relation.database}
    if len(catalogs) != 1 or not re.fullmatch(r"[A-Za-z0-9_\-]+", next(iter(catalogs))):
        raise SemanticLayerError(f"expected the relations of one DuckDB catalog in the semantic manifest, got {catalogs}")
    return catalogs.pop()


def _sql_path(path: Path) -> str:
    return str(Path(path).resolve()).replace("'", "''")
