"""`command-center rbac views | show | snowflake-sql` (hooked into orchestration/cli.py; docs/rbac.md)."""
from __future__ import annotations

import os
from pathlib import Path

from orchestration.settings import REPO_ROOT, ConfigError


def _spec(settings):
    from orchestration.lib.rbac.policy import RbacSpec
    from orchestration.lib.register import load_register

    return RbacSpec.from_register(load_register(settings.register_path))


def cmd_views(args, settings) -> int:
    """List the governed views of the published file; --per-role-files DIR: one file per role."""
    from orchestration.lib.publish import connect_published
    from orchestration.lib.rbac.duckdb_views import governed_views_of, write_per_role_files

    con = connect_published(settings)
    try:
        views = governed_views_of(con)
        path = Path(con.execute("select path from duckdb_databases() where database_name = current_database()")
                    .fetchone()[0])
    finally:
        con.close()
    spec = _spec(settings)
    for schema, names in views.items():
        role = schema[len("governed_"):]
        empty = " (no assignment in the register: every view is empty)" if role in spec.roles and not spec.scope(role) else ""
        print(f"{schema}: {len(names)} views{empty}")
    if not views:
        print("no governed views (no register role has read_metrics, or the file predates them: rebuild)")
    if args.per_role_files:
        for schema, file in write_per_role_files(path, Path(args.per_role_files)).items():
            print(f"{schema} -> {file}")
    return 0


def cmd_show(args, settings) -> int:
    """A principal's roles, its scope in each, and the schema of views to use."""
    from orchestration.lib.rbac.policy import ALL_WORKFLOWS, PII_PERMISSION, governed_schema

    spec = _spec(settings)
    member_of = spec.groups_of(args.user)
    if member_of:
        print(f"{args.user}: member of {', '.join(member_of)} (register rbac.groups)")
    roles = spec.roles_of(args.user, args.group or [])
    if not roles:
        print(f"{args.user}: no rbac assignment (directly or through the groups given): no governed views")
        return 1
    for role, scope in roles.items():
        perms = ", ".join(sorted(spec.roles[role])) or "(none)"
        print(f"role {role}: permissions {perms}; scope {', '.join(sorted(scope))}")
        if not spec.reads_marts(role):
            print("  no governed views (the role lacks read_metrics)")
            continue
        print(f"  views: {governed_schema(role)}.<mart> in the published file"
              f"{'' if spec.reads_pii(role) else f' (person fields masked: no {PII_PERMISSION})'}")
        wider = spec.scope(role) - scope
        if wider and ALL_WORKFLOWS not in scope:
            print(f"  note: other assignments widen the role's views to {', '.join(sorted(spec.scope(role)))}; "
                  "give this principal its own role to narrow them")
    return 0


def cmd_snowflake_sql(args, settings) -> int:
    """Write the Snowflake roles, grants, row access and masking policies as one SQL script."""
    from orchestration.lib.rbac.snowflake import marts_from_manifest, render_script, snowflake_statements

    manifest = Path(args.manifest or Path(os.environ.get("DBT_TARGET_PATH", REPO_ROOT / "target")) / "manifest.json")
    if not manifest.exists():
        raise ConfigError(f"no dbt manifest at {manifest}: run `command-center parse` first (or pass --manifest)")
    database = args.database or os.environ.get("SNOWFLAKE_DATABASE")
    if not database:
        raise ConfigError("pass --database (or set SNOWFLAKE_DATABASE)")
    unrestricted = args.unrestricted_role or [os.environ.get("SNOWFLAKE_ROLE") or "SYSADMIN"]
    statements = snowflake_statements(_spec(settings), marts_from_manifest(manifest), database=database,
                                      unrestricted_roles=unrestricted)
    Path(args.out).write_text(render_script(
        statements, f"command-center rbac snowflake-sql: register {settings.register_path}; docs/rbac.md"))
    print(f"wrote {len(statements)} statements to {args.out} (unrestricted roles: {', '.join(unrestricted)})")
    if args.apply:
        from orchestration.lib.rbac.snowflake import SnowflakeRbacError, apply_statements
        from orchestration.lib.snowflake_landing import connect

        con = connect()
        try:
            print(f"applied {apply_statements(con, statements)} statements to Snowflake database {database}")
        except SnowflakeRbacError as exc:
            raise ConfigError(f"rbac snowflake-sql --apply: {exc}") from None
        finally:
            con.close()
    return 0


def add_rbac_parser(sub) -> None:
    r = sub.add_parser("rbac", help="RBAC: governed per-role views (DuckDB), a user's roles, Snowflake policies SQL")
    rsub = r.add_subparsers(dest="rbac_command", required=True)
    v = rsub.add_parser("views", help="list the governed_<role> views of the published marts file")
    v.add_argument("--per-role-files", metavar="DIR",
                   help="also write one DuckDB file per role holding only its governed tables (a filesystem boundary)")
    v.set_defaults(func=cmd_views)
    s = rsub.add_parser("show", help="a user's roles, scopes and the views to use")
    s.add_argument("--user", required=True)
    s.add_argument("--group", action="append",
                   help="a group the user belongs to beyond the register's rbac.groups (repeatable)")
    s.set_defaults(func=cmd_show)
    q = rsub.add_parser("snowflake-sql", help="write CREATE ROLE, grants, row access and masking policies for Snowflake")
    q.add_argument("--out", required=True)
    q.add_argument("--database", help="the Snowflake database (default: SNOWFLAKE_DATABASE)")
    q.add_argument("--manifest", help="the dbt manifest listing the marts (default: $DBT_TARGET_PATH or target/)")
    q.add_argument("--unrestricted-role", action="append",
                   help="a role that sees every row and field: the one dbt runs as (default: SNOWFLAKE_ROLE or SYSADMIN)")
    q.add_argument("--apply", action="store_true",
                   help="also run the script over the Snowflake connection (SNOWFLAKE_* settings, README: Snowflake)")
    q.set_defaults(func=cmd_snowflake_sql)
