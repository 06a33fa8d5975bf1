"""Per-role governed views in the published marts file (DuckDB), and per-role published files.

For every register role with ``read_metrics`` the published file gets a schema ``governed_<role>``
holding one view per mart the role may read (orchestration.lib.rbac.policy): rows of the workflows
in the role's scope, person fields masked unless the role has ``read_pii``. The scopes are kept in
the file as ``rbac.role_scopes`` (role, workflow_id; ``*`` = every workflow) and the views read it,
so what a view filters on can be inspected. Views are written with unqualified names (``marts.x``),
which DuckDB binds in the view's own database, so they work whatever name the file is opened under.

These views are a convenience for BI tools, not a security boundary: whoever can open the file can
read ``marts.*`` directly. :func:`write_per_role_files` writes one file per role holding only that
role's governed tables, which is a boundary at the filesystem level (file permissions decide).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.rbac.policy import (
    ALL_WORKFLOWS,
    MASK,
    SCOPE_COLUMN,
    RbacSpec,
    governed_schema,
    role_reads_mart,
    safe_file_stem,
)

SCOPES_TABLE = "rbac.role_scopes"
#: Regions whose data_controls.residency says pii_masking: false (docs/rbac.md, "PII masking per region")
UNMASKED_REGIONS_TABLE = "rbac.unmasked_regions"
REGION_COLUMN = "region"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class GovernedView:
    role: str
    mart: str
    row_filter: str  # scope | all | none
    masked: tuple[str, ...]


def mart_columns(con: duckdb.DuckDBPyConnection, catalog: str, names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """mart -> [(column, data type)] in order, from ``catalog``'s marts schema."""
    out: dict[str, list[tuple[str, str]]] = {n: [] for n in names}
    for table, column, dtype in con.execute(
        """select table_name, column_name, data_type from information_schema.columns
           where table_catalog = ? and table_schema = 'marts' order by table_name, ordinal_position""",
        [catalog],
    ).fetchall():
        if table in out:
            out[table].append((column, dtype))
    return out


def spec_from_warehouse(con: duckdb.DuckDBPyConnection, catalog: str) -> RbacSpec | None:
    """The rbac spec landed in ``catalog``'s governance tables (None when the register was never landed)."""
    have = {t for (t,) in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'governance'",
        [catalog]).fetchall()}
    if not {"rbac_role_permissions", "rbac_assignments"} <= have:
        return None
    db = ident(catalog)
    permissions = con.execute(f"select role, permission from {db}.governance.rbac_role_permissions").fetchall()
    assignments = con.execute(
        f"select principal_type, principal, role, scope from {db}.governance.rbac_assignments").fetchall()
    redacted = ([f for (f,) in con.execute(f"select field from {db}.governance.redaction_fields").fetchall()]
                if "redaction_fields" in have else [])
    return RbacSpec.from_rows(permissions, assignments, redacted)


def unmasked_regions(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """The regions landed in ``catalog``'s governance.residency with pii_masking false."""
    have = con.execute(
        "select count(*) from information_schema.tables where table_catalog = ? and table_schema = 'governance' "
        "and table_name = 'residency'", [catalog]).fetchone()[0]
    if not have:
        return []
    return [r for (r,) in con.execute(
        f"select region from {ident(catalog)}.governance.residency where not pii_masking order by 1").fetchall()]


def _view_sql(spec: RbacSpec, role: str, mart: str, columns: list[tuple[str, str]],
              per_region: bool = False) -> tuple[str, GovernedView]:
    masked = spec.masked_columns(role, [c for c, _ in columns])
    # PII masking per region: a row whose region declares pii_masking false shows its person fields
    # (marts without a region column, or rows of another region, stay masked)
    per_region = per_region and any(c == REGION_COLUMN for c, _ in columns)
    select = []
    for column, dtype in columns:
        if column in masked:
            value = (f"case when m.{ident(column)} is null then null else {literal(MASK)} end"
                     if dtype.upper() == "VARCHAR" else f"cast(null as {dtype})")
            if per_region:
                value = (f"case when m.{REGION_COLUMN} in (select u.region from {UNMASKED_REGIONS_TABLE} as u) "
                         f"then m.{ident(column)} else {value} end")
            select.append(f"{value} as {ident(column)}")
        else:
            select.append(f"m.{ident(column)}")
    scope = spec.scope(role)
    if ALL_WORKFLOWS in scope:
        where, kind = "", "all"
    elif any(c == SCOPE_COLUMN for c, _ in columns):
        where = (f"\nwhere m.{SCOPE_COLUMN} in (select s.workflow_id from {SCOPES_TABLE} as s "
                 f"where s.role = {literal(role)})")
        kind = "scope"
    else:
        where, kind = "\nwhere false", "none"
    sql = f"select {', '.join(select)}\nfrom marts.{ident(mart)} as m{where}"
    return sql, GovernedView(role, mart, kind, tuple(masked))


def create_governed_views(con: duckdb.DuckDBPyConnection, target: str, spec: RbacSpec,
                          marts: dict[str, list[tuple[str, str]]], unmasked: list[str] | None = None) -> list[GovernedView]:
    """In ``target`` (an attached catalog holding marts.*): rbac.role_scopes and governed_<role>.<mart> views;
    ``unmasked``: regions whose rows show person fields (rbac.unmasked_regions)."""
    db = ident(target)
    con.execute(f"create schema if not exists {db}.rbac")
    con.execute(f"create or replace table {db}.{UNMASKED_REGIONS_TABLE} (region varchar not null primary key)")
    if unmasked:
        con.executemany(f"insert into {db}.{UNMASKED_REGIONS_TABLE} values (?)", [[r] for r in sorted(set(unmasked))])
    con.execute(f"create or replace table {db}.{SCOPES_TABLE} (role varchar not null, workflow_id varchar not null)")
    rows = sorted({(a.role, a.scope) for a in spec.assignments})
    if rows:
        con.executemany(f"insert into {db}.{SCOPES_TABLE} values (?, ?)", rows)
    made: list[GovernedView] = []
    for role in spec.reader_roles():
        schema = f"{db}.{ident(governed_schema(role))}"
        con.execute(f"create schema if not exists {schema}")
        for mart in sorted(marts):
            if not role_reads_mart(spec, role, mart):
                continue
            sql, view = _view_sql(spec, role, mart, marts[mart], per_region=bool(unmasked))
            con.execute(f"create or replace view {schema}.{ident(mart)} as {sql}")
            made.append(view)
    return made


def governed_views_of(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """schema -> its views, of a published file opened on ``con`` (for `rbac show`)."""
    out: dict[str, list[str]] = {}
    for schema, view in con.execute(
        """select table_schema, table_name from information_schema.tables
           where table_catalog = current_database() and table_type = 'VIEW' and table_schema like 'governed\\_%' escape '\\'
           order by 1, 2""").fetchall():
        out.setdefault(schema, []).append(view)
    return out


def write_per_role_files(published: Path, out_dir: Path) -> dict[str, Path]:
    """One DuckDB file per governed schema of ``published``: its views as tables under ``marts``
    (same names, so readers need no change), mode 0444. Returns role schema -> file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    written: dict[str, Path] = {}
    try:
        con.execute(f"attach {literal(str(published))} as src (read_only)")
        schemas = [s for (s,) in con.execute(
            """select distinct table_schema from information_schema.tables
               where table_catalog = 'src' and table_schema like 'governed\\_%' escape '\\' order by 1""").fetchall()]
        for schema in schemas:
            role = schema[len("governed_"):]
            path = out_dir / f"command_center_{safe_file_stem(role)}.duckdb"
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            con.execute(f"attach {literal(str(tmp))} as dst")
            con.execute("create schema dst.marts")
            for (view,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'src' and table_schema = ?",
                [schema]).fetchall():
                con.execute(f"create table dst.marts.{ident(view)} as select * from src.{ident(schema)}.{ident(view)}")
            con.execute("create schema dst.rbac")
            con.execute("create table dst.rbac.file_role as select ? as role", [role])
            con.execute("detach dst")
            tmp.chmod(0o444)
            os.replace(tmp, path)
            written[schema] = path
    finally:
        con.close()
    return written


def publish_governed_views(con: duckdb.DuckDBPyConnection, source: str, target: str, names: list[str]) -> int:
    """The publish step's hook: governed views in ``target`` for the rbac landed in ``source``.
    Returns the number of views (0 when the warehouse has no rbac tables)."""
    spec = spec_from_warehouse(con, source)
    if spec is None:
        return 0
    return len(create_governed_views(con, target, spec, mart_columns(con, target, names),
                                     unmasked=unmasked_regions(con, source)))
