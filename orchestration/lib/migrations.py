"""Schema migrations of the incremental models: which existing tables a release's column changes make
stale, and clearing them so the next build creates them from scratch.

An incremental model with ``on_schema_change: fail`` (the project's rule: dbt_project.yml) stops the
build when its table's columns differ from what its SQL now produces, e.g. after a release that adds a
build-state column. `plan_migrations` compares, for every incremental model with an enforced contract,
the columns the contract declares (the manifest: the release being built) with the columns of the
existing table (the warehouse's ``information_schema.columns``):

* names, case-insensitively (DuckDB identifiers are), in any order (dbt inserts by name);
* data types where both sides are comparable: the contract's ``data_type`` and DuckDB's type name are
  normalised to DuckDB's canonical spelling (``varchar``/``text``/``string`` -> ``VARCHAR``, ``int`` ->
  ``INTEGER``, ``int8``/``long`` -> ``BIGINT``, ``timestamp without time zone`` -> ``TIMESTAMP``,
  ``numeric(p, s)`` -> ``DECIMAL(p,s)``, ...). A type outside that list (lists, structs, maps, ...) on
  either side is not compared: names only, never a false alarm.

A table that differs is dropped (`apply_migrations`); the build that follows creates it the way it
creates every table of a new warehouse, at its place in the graph, after its upstream models took in
the new loads. Its incremental descendants are NOT rebuilt: they decide what to recompute from
data-derived marks (the event summaries' ``max_loaded_at``, ``first_event_at``) and their own build
state, which a rebuild of an upstream model leaves as they were; the one descendant that reads an
upstream's build state (``fct_detected_exceptions`` reads ``int_alert_rule_detections._loaded_through``)
sees every rebuilt row as written by this build, so it recomputes all of them, or, with nothing new
landed, keeps exactly the rows it has. tests/integration/test_migrations.py proves the result equal to a
from-scratch build.

Not checked (listed as such in the plan): incremental models without an enforced contract (the
manifest does not know their columns; the project has none: test_manifest_conventions), and models with ``full_refresh: false`` or an
``on_schema_change`` that handles the change itself (append_new_columns, sync_all_columns). DuckDB only:
on Snowflake the build is not migrated (docs/metrics.md, "Schema migrations").
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: ``on_schema_change`` values under which a column change needs a rebuild: ``fail`` stops the build,
#: ``ignore`` (dbt's default) silently keeps the old columns.
NEEDS_REBUILD = frozenset({"fail", "ignore"})

#: Type spellings (lower case, single spaces) -> DuckDB's canonical type name.
_TYPE_ALIASES = {
    **dict.fromkeys(("varchar", "text", "string", "char", "bpchar", "character varying", "character",
                     "nvarchar"), "VARCHAR"),
    **dict.fromkeys(("integer", "int", "int4", "signed"), "INTEGER"),
    **dict.fromkeys(("bigint", "int8", "long"), "BIGINT"),
    **dict.fromkeys(("smallint", "int2", "short"), "SMALLINT"),
    **dict.fromkeys(("tinyint", "int1"), "TINYINT"),
    **dict.fromkeys(("hugeint", "int128"), "HUGEINT"),
    **{name: name.upper() for name in ("ubigint", "uinteger", "usmallint", "utinyint", "uhugeint")},
    **dict.fromkeys(("double", "float8", "double precision"), "DOUBLE"),
    **dict.fromkeys(("float", "float4", "real"), "FLOAT"),
    **dict.fromkeys(("boolean", "bool", "logical"), "BOOLEAN"),
    "date": "DATE",
    **dict.fromkeys(("timestamp", "datetime", "timestamp without time zone"), "TIMESTAMP"),
    **dict.fromkeys(("timestamptz", "timestamp with time zone"), "TIMESTAMP WITH TIME ZONE"),
    **dict.fromkeys(("time", "time without time zone"), "TIME"),
    "interval": "INTERVAL",
    "uuid": "UUID",
    **dict.fromkeys(("blob", "bytea", "binary", "varbinary"), "BLOB"),
}
_DECIMAL = re.compile(r"^(?:decimal|numeric)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
_LENGTH = re.compile(r"^(varchar|char|character varying|character|nvarchar|text|string)\s*\(\s*\d+\s*\)$")


def normalize_type(data_type: str | None) -> str | None:
    """DuckDB's canonical name of a type spelling, or None when it is not one this module compares
    (missing, a list, struct, map, enum, ...)."""
    if not data_type:
        return None
    text = " ".join(data_type.strip().lower().split())
    text = _LENGTH.sub(r"\1", text)  # varchar(20): DuckDB ignores the length
    decimal = _DECIMAL.match(text)
    if decimal:
        width, scale = decimal.group(1), decimal.group(2)
        if width is None:
            return "DECIMAL(18,3)"  # DuckDB's default
        return f"DECIMAL({int(width)},{int(scale or 0)})"
    return _TYPE_ALIASES.get(text)


@dataclass(frozen=True)
class ColumnDiff:
    """How an existing table's columns differ from the declared ones (names lower-cased)."""

    added: tuple[str, ...] = ()  # declared, not in the table (the release adds them)
    removed: tuple[str, ...] = ()  # in the table, not declared (the release drops or renames them)
    retyped: tuple[tuple[str, str, str], ...] = ()  # (column, table's type, declared type), both normalised

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> str:
        parts = []
        if self.added:
            parts.append("new column(s) " + ", ".join(self.added))
        if self.removed:
            parts.append("column(s) no longer declared " + ", ".join(self.removed))
        if self.retyped:
            parts.append("type change(s) " + ", ".join(f"{c} {old} -> {new}" for c, old, new in self.retyped))
        return "; ".join(parts) or "no change"


def diff_columns(declared: Mapping[str, str | None], existing: Mapping[str, str | None]) -> ColumnDiff:
    """Compare declared columns (name -> contract data_type) with an existing table's (name -> type).
    Names case-insensitively, order ignored; types only where both normalise (`normalize_type`)."""
    want = {name.lower(): normalize_type(t) for name, t in declared.items()}
    have = {name.lower(): normalize_type(t) for name, t in existing.items()}
    retyped = tuple(
        (name, have[name], want[name])
        for name in want
        if name in have and want[name] and have[name] and want[name] != have[name]
    )
    return ColumnDiff(
        added=tuple(n for n in want if n not in have),
        removed=tuple(n for n in have if n not in want),
        retyped=retyped,
    )


@dataclass(frozen=True)
class Migration:
    """One incremental model whose existing table the build must create again."""

    unique_id: str
    schema: str
    identifier: str
    diff: ColumnDiff
    old_columns: tuple[str, ...]  # the table's, in its order
    new_columns: tuple[str, ...]  # the contract's, in its order

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.identifier}"

    @property
    def name(self) -> str:
        return self.unique_id.rsplit(".", 1)[-1]

    def describe(self) -> str:
        return (
            f"{self.relation}: {self.diff.describe()}\n"
            f"    table columns:    {', '.join(self.old_columns)}\n"
            f"    declared columns: {', '.join(self.new_columns)}"
        )


@dataclass(frozen=True)
class MigrationPlan:
    migrations: tuple[Migration, ...] = ()
    #: incremental models whose columns the plan cannot check (no enforced contract)
    unchecked: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.migrations)

    @property
    def models(self) -> list[str]:
        return [m.name for m in self.migrations]

    def describe(self, action: str = "are dropped and rebuilt from scratch by this build") -> str:
        """What the plan holds, each table with its old and declared columns; ``action`` says what happens."""
        if not self.migrations:
            text = "schema migration: nothing to migrate (every checked incremental table has its model's columns)"
        else:
            text = (
                f"schema migration: {len(self.migrations)} incremental table(s) differ from their model's contract "
                f"and {action} (their descendants build incrementally on them):\n"
                + "\n".join(f"  - {m.describe()}" for m in self.migrations)
            )
        if self.unchecked:
            text += "\n  not checked (no enforced contract): " + ", ".join(self.unchecked)
        return text


def _config(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return node.get("config") or {}


def candidate_nodes(manifest: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """(the incremental models a column change makes stale and whose contract declares their columns,
    the names of such models without an enforced contract)."""
    checked, unchecked = [], []
    for unique_id, node in sorted(manifest.get("nodes", {}).items()):
        config = _config(node)
        if node.get("resource_type") != "model" or config.get("materialized") != "incremental":
            continue
        if config.get("full_refresh") is False:  # keeps history no rebuild could recompute
            continue
        if (config.get("on_schema_change") or "ignore") not in NEEDS_REBUILD:
            continue
        if (config.get("contract") or {}).get("enforced"):
            checked.append(node)
        else:
            unchecked.append(node.get("name") or unique_id)
    return checked, unchecked


def declared_columns(node: Mapping[str, Any]) -> dict[str, str | None]:
    """The contract's columns of a model node: name -> data_type, in declaration order."""
    return {col.get("name") or key: col.get("data_type") for key, col in (node.get("columns") or {}).items()}


def duckdb_existing_columns(con, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    """The columns (name -> type, in table order) of the base tables among ``relations`` ((schema, table)
    pairs, matched case-insensitively) in the connection's current database; absent ones are left out."""
    wanted = {(s.lower(), t.lower()) for s, t in relations}
    if not wanted:
        return {}
    rows = con.execute(
        """
        select lower(c.table_schema), lower(c.table_name), c.column_name, c.data_type
        from information_schema.columns as c
        inner join information_schema.tables as t
            on c.table_catalog = t.table_catalog and c.table_schema = t.table_schema and c.table_name = t.table_name
        where t.table_type = 'BASE TABLE' and c.table_catalog = current_database()
        order by 1, 2, c.ordinal_position
        """
    ).fetchall()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        if (schema, table) in wanted:
            found.setdefault((schema, table), {})[column] = data_type
    return found


def plan_from_columns(
    manifest: Mapping[str, Any], existing: Mapping[tuple[str, str], Mapping[str, str]]
) -> MigrationPlan:
    """The plan, given the existing tables' columns ((schema, table) lower-cased -> name -> type)."""
    nodes, unchecked = candidate_nodes(manifest)
    migrations = []
    for node in nodes:
        schema, identifier = node["schema"], node.get("alias") or node["name"]
        have = existing.get((schema.lower(), identifier.lower()))
        if have is None:  # no table yet: the build creates it
            continue
        want = declared_columns(node)
        diff = diff_columns(want, have)
        if diff:
            migrations.append(Migration(node["unique_id"], schema, identifier, diff, tuple(have), tuple(want)))
    return MigrationPlan(tuple(migrations), tuple(unchecked))


def plan_migrations(manifest: Mapping[str, Any], con) -> MigrationPlan:
    """The migration a DuckDB warehouse (``con``) needs before it builds the release ``manifest`` describes."""
    nodes, _ = candidate_nodes(manifest)
    relations = [(n["schema"], n.get("alias") or n["name"]) for n in nodes]
    return plan_from_columns(manifest, duckdb_existing_columns(con, relations))


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def apply_migrations(con, plan: MigrationPlan) -> list[str]:
    """Drop the plan's tables (one transaction); the next dbt build creates them from scratch.
    Returns the relations dropped."""
    if not plan.migrations:
        return []
    con.execute("begin transaction")
    try:
        for m in plan.migrations:
            con.execute(f"drop table if exists {_quote(m.schema)}.{_quote(m.identifier)}")
    except Exception:
        con.execute("rollback")
        raise
    con.execute("commit")
    return [m.relation for m in plan.migrations]
