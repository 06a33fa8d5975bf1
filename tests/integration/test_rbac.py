"""Per-role governed views in the published marts file, on the session's shared warehouse (docs/rbac.md).

One publish of a copy of the shared warehouse whose governance rbac tables are replaced with hand-made
roles: a scoped role, a '*' role with read_pii, a role without read_metrics, and two hostile names.
"""
from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.publish import publish_marts
from orchestration.lib.rbac.policy import MASK

pytestmark = pytest.mark.integration

HOSTILE = 'evil"; drop table marts.fct_workflow_runs; --'
QUOTE = "o'brien"
ROLES = [("scoped", "read_metrics"), ("scoped", "read_exceptions"), ("auditor", "read_metrics"),
         ("auditor", "read_exceptions"), ("auditor", "read_pii"), ("approver_only", "approve_high_risk"),
         (HOSTILE, "read_metrics"), (QUOTE, "read_metrics")]
ASSIGNMENTS = [("user", "a.lee@company.com", "scoped", "fulfillment_v2"),
               ("group", "ops-leads", "scoped", "invoice_posting_v1"),
               ("group", "audit", "auditor", "*"), ("group", "cab", "approver_only", "*"),
               ("user", "mallory", HOSTILE, "fulfillment_v2') or ('1'='1"),
               ("user", "ob", QUOTE, "inventory_sync_v1")]
SCOPE = ("fulfillment_v2", "invoice_posting_v1")


@pytest.fixture(scope="module")
def published(shared_warehouse, tmp_path_factory):
    root = tmp_path_factory.mktemp("rbac")
    db = root / "warehouse.duckdb"
    shutil.copy(shared_warehouse.db, db)
    con = duckdb.connect(str(db))
    con.execute("delete from governance.rbac_role_permissions")
    con.executemany("insert into governance.rbac_role_permissions values (?, ?)", ROLES)
    con.execute("delete from governance.rbac_assignments")
    con.executemany("insert into governance.rbac_assignments values (?, ?, ?, ?)", ASSIGNMENTS)
    con.close()
    target = root / "published.duckdb"
    publish_marts(db, target)
    con = duckdb.connect(str(target), read_only=True)
    yield con, target, root
    con.close()


def _marts(con) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for table, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'").fetchall():
        out.setdefault(table, set()).add(column)
    return out


def _count(con, relation: str, where: str = "") -> int:
    return con.execute(f"select count(*) from {relation} {where}").fetchone()[0]


def test_scoped_role_sees_only_its_workflows(published):
    con, _, _ = published
    marts = _marts(con)
    checked = 0
    for mart, columns in marts.items():
        view = f'governed_scoped."{mart}"'
        if "workflow_id" in columns:
            expected = _count(con, f"marts.{mart}", f"where workflow_id in {SCOPE}")
            assert _count(con, view) == expected, mart
            assert {w for (w,) in con.execute(f"select distinct workflow_id from {view}").fetchall()} <= set(SCOPE)
            checked += expected > 0
        else:  # not filterable by workflow: empty for a scoped role, whole for a '*' role
            assert _count(con, view) == 0, mart
            assert _count(con, f'governed_auditor."{mart}"') == _count(con, f"marts.{mart}"), mart
    assert checked >= 20  # most marts have rows of these two workflows
    assert _count(con, "governed_scoped.fct_workflow_runs") < _count(con, "marts.fct_workflow_runs")


def test_person_fields_masked_without_read_pii_clear_with_it(published):
    con, _, _ = published
    masked = con.execute("""select count(*), count(*) filter (where routed_owner = ?),
                                   count(*) filter (where resolved_by = ? or resolved_by is null)
                            from governed_scoped.fct_exceptions""", [MASK, MASK]).fetchone()
    assert masked[0] > 0 and masked[0] == masked[1] == masked[2]
    clear = con.execute("select routed_owner, resolved_by, owner_team from governed_auditor.fct_exceptions "
                        "except all select routed_owner, resolved_by, owner_team from marts.fct_exceptions").fetchall()
    assert clear == [] and _count(con, "governed_auditor.fct_exceptions") == _count(con, "marts.fct_exceptions")
    # what is not a person stays clear for everyone; nulls stay null
    assert con.execute("select count(*) from governed_scoped.fct_workflow_runs where owner_team = ?", [MASK]).fetchone()[0] == 0
    assert con.execute("select count(distinct owner) from governed_scoped.fct_workflow_runs").fetchone()[0] == 1


def test_roles_without_read_metrics_get_no_views_and_hostile_names_break_nothing(published):
    con, _, _ = published
    schemas = {s for (s,) in con.execute(
        "select distinct table_schema from information_schema.tables where table_schema like 'governed_%'").fetchall()}
    assert schemas == {"governed_scoped", "governed_auditor", f"governed_{HOSTILE}", f"governed_{QUOTE}"}
    assert _count(con, "marts.fct_workflow_runs") > 0  # not dropped
    hostile = '"governed_' + HOSTILE.replace('"', '""') + '".fct_workflow_runs'
    assert _count(con, hostile) == 0  # its scope is one (odd) literal workflow id, matching nothing
    quoted = f'"governed_{QUOTE}".fct_workflow_runs'
    assert _count(con, quoted) == _count(con, "marts.fct_workflow_runs", "where workflow_id = 'inventory_sync_v1'") > 0


def test_views_work_under_any_file_name_and_per_role_files(published, monkeypatch, capsys, cc_env):
    _, target, root = published
    cc_env.apply(monkeypatch, root / "cli", duckdb=root / "warehouse.duckdb")
    moved = root / "renamed.duckdb"
    shutil.copy(target, moved)
    other = duckdb.connect()
    other.execute(f"attach '{moved}' as bi (read_only)")
    assert other.execute("select count(*) from bi.governed_scoped.fct_workflow_runs").fetchone()[0] > 0
    other.close()
    monkeypatch.setenv("COMMAND_CENTER_PUBLISHED_DUCKDB", str(target))
    out_dir = root / "per_role"
    assert main(["rbac", "views", "--per-role-files", str(out_dir)]) == 0
    files = sorted(p.name for p in out_dir.iterdir())
    assert "command_center_scoped.duckdb" in files and len(files) == 4
    scoped = duckdb.connect(str(out_dir / "command_center_scoped.duckdb"), read_only=True)
    assert {s for (s,) in scoped.execute(
        "select distinct table_schema from information_schema.tables").fetchall()} == {"marts", "rbac"}
    assert {w for (w,) in scoped.execute("select distinct workflow_id from marts.fct_workflow_runs").fetchall()} == set(SCOPE)
    scoped.close()
    assert not os.access(out_dir / "command_center_scoped.duckdb", os.W_OK) or os.geteuid() == 0
    assert main(["rbac", "show", "--user", "a.lee@company.com"]) == 0
    assert "governed_ops_controller" in capsys.readouterr().out  # show reads the register itself


def test_no_e_mail_address_reaches_a_role_without_read_pii(published):
    """Every text column of every view of the scoped role: no '@' (all the marts' addresses are person fields)."""
    con, _, _ = published
    marts_with_addresses = 0
    for mart, column in con.execute(
            """select table_name, column_name from information_schema.columns
               where table_schema = 'marts' and data_type = 'VARCHAR'""").fetchall():
        if _count(con, f'marts."{mart}"', f"""where "{column}" like '%@%'"""):
            marts_with_addresses += 1
            assert _count(con, f'governed_auditor."{mart}"', f"""where "{column}" like '%@%'""") > 0, (mart, column)
        leaked = con.execute(
            f"""select count(*) from governed_scoped."{mart}" where "{column}" like '%@%'""").fetchone()[0]
        assert leaked == 0, (mart, column)
    assert marts_with_addresses >= 10


def test_snowflake_script_from_the_built_manifest_covers_every_mart(published, tmp_path, monkeypatch, cc_env, capsys):
    """`rbac snowflake-sql` from the manifest the session's build wrote: the row policy on every mart with
    workflow_id, the mask on every person column of the published marts (contracts = published columns)."""
    con, _, root = published
    cc_env.apply(monkeypatch, root / "cli_sf", duckdb=root / "warehouse.duckdb")
    out = tmp_path / "rbac.sql"
    assert main(["rbac", "snowflake-sql", "--out", str(out), "--database", "CC", "--unrestricted-role", "TRANSFORMER"]) == 0
    script = out.read_text()
    statements = [s for s in script.splitlines() if not s.startswith("--")]
    assert all(s.endswith(";") and s.count(";") == 1 for s in statements)  # one statement a line
    marts = _marts(con)
    for mart, columns in marts.items():
        row_policy = f"alter table CC.marts.{mart} add row access policy CC.governance.rbac_workflow_scope on (workflow_id);"
        assert (row_policy in statements) == ("workflow_id" in columns), mart
    masked = {tuple(s.split()[2].rsplit(".", 1)[1:]) + (s.split()[5],) for s in statements if "set masking policy" in s}
    expected = {(m, c) for m, cols in marts.items() for c in cols
                if c in {"owner", "service_owner", "workflow_owner", "routed_owner", "approver", "first_touch_by",
                         "resolved_by", "landed_by_user", "actor"}}
    assert masked == expected
    assert 'create role if not exists "OPS_CONTROLLER";' in statements
    assert "wrote" in capsys.readouterr().out
