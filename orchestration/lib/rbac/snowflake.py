"""The register's rbac as Snowflake SQL: roles, grants, a row access policy, masking policies.

Statements, in order (every name but the roles is a dbt relation name or a fixed policy name; role
names come from the register and are always double-quoted, upper-cased like an unquoted identifier,
so ``ops_viewer`` is the role OPS_VIEWER the dbt grant macro grants to):

1. ``create role if not exists`` per register role;
2. per role with ``read_metrics``: usage on the database and the marts schema, select on each mart it
   may read (policy.role_reads_mart; a mart without ``workflow_id`` only to a role whose scope is ``*``);
3. the row access policy ``<db>.governance.rbac_workflow_scope`` on ``workflow_id``: a row is visible
   to an unrestricted role (the role that runs dbt: its models and tests must see every row) or
   when a role in the session (``is_role_in_session``: primary, secondary and inherited roles) has
   an assignment in ``governance.rbac_assignments`` whose scope is ``*`` or that workflow; attached to
   every mart with ``workflow_id`` (any previous row access policy of the mart dropped first);
4. the masking policy ``<db>.governance.rbac_mask_person`` (varchar): clear for an unrestricted role or
   a role in session holding ``read_pii`` (``governance.rbac_role_permissions``), else ``***`` (null stays
   null); set (``force``) on every person column of every mart (policy.RbacSpec.is_person_column).

Policies are created ``if not exists`` and their bodies set with ``alter ... set body`` so the script
re-runs after every build (dbt recreates the tables, which drops attached policies: run it again).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from orchestration.lib.rbac.policy import (
    ALL_WORKFLOWS,
    MASK,
    PII_PERMISSION,
    SCOPE_COLUMN,
    RbacSpec,
    role_reads_mart,
)

ROW_POLICY = "rbac_workflow_scope"
MASK_POLICY = "rbac_mask_person"
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class SnowflakeRbacError(ValueError):
    pass


def quote_role(role: str) -> str:
    """A register role as a Snowflake identifier: upper-cased (what an unquoted name resolves to), quoted."""
    return '"' + role.upper().replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _plain(name: str, what: str) -> str:
    if not _PLAIN.match(name):
        raise SnowflakeRbacError(f"{what} {name!r} is not a plain Snowflake identifier")
    return name


def marts_from_manifest(manifest: Path) -> dict[str, list[str]]:
    """mart -> its contract columns, from a dbt manifest (models under models/marts/, not ephemeral)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {
        n["alias"]: list(n["columns"])
        for n in nodes
        if n["resource_type"] == "model" and len(n["fqn"]) > 1 and n["fqn"][1] == "marts"
        and n["config"].get("materialized") != "ephemeral"
    }


def _unrestricted(roles: list[str]) -> str:
    return " or ".join(f"is_role_in_session({literal(r.upper())})" for r in roles) or "false"


def snowflake_statements(spec: RbacSpec, marts: dict[str, list[str]], *, database: str,
                         unrestricted_roles: list[str], marts_schema: str = "marts",
                         governance_schema: str = "governance") -> list[str]:
    """The statements (no trailing semicolons), in order."""
    db = _plain(database, "database")
    marts_schema, governance_schema = _plain(marts_schema, "schema"), _plain(governance_schema, "schema")
    gov = f"{db}.{governance_schema}"
    for mart, columns in marts.items():
        _plain(mart, "mart")
        for c in columns:
            _plain(c, f"column of {mart}")
    out: list[str] = [f"create role if not exists {quote_role(r)}" for r in sorted(spec.roles)]
    for role in spec.reader_roles():
        r = quote_role(role)
        out += [f"grant usage on database {db} to role {r}", f"grant usage on schema {db}.{marts_schema} to role {r}"]
        everything = ALL_WORKFLOWS in spec.scope(role)
        for mart in sorted(marts):
            if role_reads_mart(spec, role, mart) and (everything or SCOPE_COLUMN in marts[mart]):
                out.append(f"grant select on table {db}.{marts_schema}.{mart} to role {r}")
    free = _unrestricted(unrestricted_roles)
    row_body = (
        f"{free} or exists (select 1 from {gov}.rbac_assignments as a "
        f"where is_role_in_session(upper(a.role)) and (a.scope = {literal(ALL_WORKFLOWS)} or a.scope = wf))"
    )
    mask_body = (
        f"case when {free} or exists (select 1 from {gov}.rbac_role_permissions as p "
        f"where p.permission = {literal(PII_PERMISSION)} and is_role_in_session(upper(p.role))) then val "
        f"when val is null then null else {literal(MASK)} end"
    )
    out += [
        f"create row access policy if not exists {gov}.{ROW_POLICY} as (wf varchar) returns boolean -> {row_body}",
        f"alter row access policy {gov}.{ROW_POLICY} set body -> {row_body}",
        f"create masking policy if not exists {gov}.{MASK_POLICY} as (val varchar) returns varchar -> {mask_body}",
        f"alter masking policy {gov}.{MASK_POLICY} set body -> {mask_body}",
    ]
    for mart in sorted(marts):
        table = f"{db}.{marts_schema}.{mart}"
        if SCOPE_COLUMN in marts[mart]:
            out += [f"alter table {table} drop all row access policies",
                    f"alter table {table} add row access policy {gov}.{ROW_POLICY} on ({SCOPE_COLUMN})"]
        for column in marts[mart]:
            if spec.is_person_column(column):
                out.append(f"alter table {table} modify column {column} set masking policy {gov}.{MASK_POLICY} force")
    return out


def render_script(statements: list[str], header: str = "") -> str:
    lines = [f"-- {line}" for line in header.splitlines()] if header else []
    return "\n".join(lines + [s + ";" for s in statements]) + "\n"


def apply_statements(con, statements: list[str]) -> int:
    """Run the statements in order on a Snowflake connection; stop at the first failure, naming it.
    Returns how many ran."""
    cur = con.cursor()
    try:
        for i, statement in enumerate(statements, 1):
            try:
                cur.execute(statement)
            except Exception as exc:  # the connector's errors: say which statement, then what Snowflake said
                raise SnowflakeRbacError(
                    f"statement {i} of {len(statements)} failed ({i - 1} applied before it): {statement[:200]}\n"
                    f"  {type(exc).__name__}: {str(exc).strip()[:500]}"
                ) from None
    finally:
        cur.close()
    return len(statements)
