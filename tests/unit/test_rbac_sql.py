"""RBAC policy decisions and the Snowflake SQL they become (docs/rbac.md).

fakesnow parses none of CREATE ROLE, GRANT, ROW ACCESS / MASKING POLICY or ALTER TABLE ... POLICY, so
the Snowflake script is checked here: GRANT statements parsed by sqlglot (dialect snowflake) into
their structure; the policy DDL checked by pattern and its body parsed by sqlglot, then evaluated
on DuckDB with ``is_role_in_session`` stubbed, against hand-made mapping rows.
"""
from __future__ import annotations

import copy
import re

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp

from orchestration.lib.rbac.policy import MASK, RbacError, RbacSpec, role_reads_mart, safe_file_stem
from orchestration.lib.rbac.snowflake import MASK_POLICY, ROW_POLICY, SnowflakeRbacError, snowflake_statements
from orchestration.lib.register import RegisterError, parse_register
from orchestration.settings import REPO_ROOT

HOSTILE = 'x"; drop table marts.fct_workflow_runs; --'
MARTS = {
    "fct_workflow_runs": ["run_key", "workflow_id", "owner", "cycle_time_seconds"],
    "fct_exceptions": ["exception_id", "workflow_id", "routed_owner", "resolved_by"],
    "agg_owner_leaderboard": ["owner", "owner_team", "leaderboard_rank"],
}


def _spec() -> RbacSpec:
    return RbacSpec.from_rows(
        [("viewer", "read_metrics"), ("controller", "read_metrics"), ("controller", "read_exceptions"),
         ("auditor", "read_metrics"), ("auditor", "read_exceptions"), ("auditor", "read_pii"),
         ("authority", "approve_high_risk"), (HOSTILE, "read_metrics")],
        [("user", "a.lee@company.com", "controller", "fulfillment_v2"),
         ("user", "b@company.com", "controller", "invoice_posting_v1"),
         ("group", "audit", "auditor", "*"), ("group", "cab", "authority", "*"),
         ("user", "v@company.com", "viewer", "fulfillment_v2"),
         ("user", "h", HOSTILE, "fulfillment_v2' or '1'='1")],
        ["customer_email"],
    )


def test_scope_permissions_and_person_columns():
    spec = _spec()
    assert spec.scope("controller") == {"fulfillment_v2", "invoice_posting_v1"}
    assert spec.scope("auditor") == {"*"} and spec.scope("nobody") == frozenset()
    assert spec.reader_roles() == sorted(["viewer", "controller", "auditor", HOSTILE])
    assert spec.roles_of("a.lee@company.com") == {"controller": {"fulfillment_v2"}}
    assert spec.roles_of("z", ["audit", "cab"]) == {"auditor": {"*"}, "authority": {"*"}}
    # the register's rbac.groups: a listed member holds the group's roles without --group
    member = RbacSpec(spec.roles, spec.assignments, spec.redacted_fields,
                      group_members={"cab": frozenset({"m@company.com"}), "audit": frozenset()})
    assert member.groups_of("m@company.com") == ["cab"] and member.groups_of("z") == []
    assert member.roles_of("m@company.com") == {"authority": {"*"}}
    assert member.roles_of("m@company.com", ["audit"]) == {"auditor": {"*"}, "authority": {"*"}}
    assert role_reads_mart(spec, "controller", "fct_exceptions")
    assert not role_reads_mart(spec, "viewer", "fct_exceptions")  # needs read_exceptions too
    assert spec.masked_columns("viewer", MARTS["fct_exceptions"]) == ["routed_owner", "resolved_by"]
    assert spec.masked_columns("auditor", MARTS["fct_exceptions"]) == []
    assert spec.is_person_column("customer_email") and spec.is_person_column("reviewer_email")
    assert not spec.is_person_column("owner_team")


def test_spec_refuses_case_duplicates_and_unknown_roles():
    with pytest.raises(RbacError, match="differ only in case"):
        RbacSpec({"Viewer": frozenset(), "viewer": frozenset()})
    with pytest.raises(RbacError, match="unknown role 'ghost'"):
        RbacSpec({"viewer": frozenset()}, (RbacSpec.from_rows([], [("user", "u", "ghost", "*")]).assignments[0],))
    assert safe_file_stem("ops_viewer") == "ops_viewer"
    assert re.fullmatch(r"x_drop_table_marts_fct_workflow_runs_[0-9a-f]{8}", safe_file_stem(HOSTILE))


def _statements() -> list[str]:
    return snowflake_statements(_spec(), MARTS, database="CC", unrestricted_roles=["TRANSFORMER"])


def test_grants_parse_and_follow_permissions_and_scope():
    grants: dict[str, set[tuple[str, str, str]]] = {}
    for statement in _statements():
        if not statement.startswith("grant "):
            continue
        parsed = sqlglot.parse(statement, read="snowflake")
        assert len(parsed) == 1 and isinstance(parsed[0], exp.Grant), statement  # one statement: nothing injected
        grant = parsed[0]
        (principal,) = grant.args["principals"]
        (privilege,) = grant.args["privileges"]
        grants.setdefault(principal.this.name, set()).add(
            (privilege.this.name.lower(), grant.args["kind"].lower(), grant.args["securable"].name))
    assert set(grants) == {"VIEWER", "CONTROLLER", "AUDITOR", HOSTILE.upper()}  # not the one without read_metrics
    assert all({("usage", "database", "CC"), ("usage", "schema", "marts")} <= g for g in grants.values())
    tables = {r: {name for privilege, _, name in gs if privilege == "select"} for r, gs in grants.items()}
    # a scoped role: no mart without workflow_id; read_exceptions gates the exception marts
    assert tables["CONTROLLER"] == {"fct_workflow_runs", "fct_exceptions"}
    assert tables["VIEWER"] == {"fct_workflow_runs"}
    assert tables["AUDITOR"] == set(MARTS)


def test_policies_attach_to_the_right_columns():
    statements = _statements()
    creates = [s for s in statements if s.startswith("create role")]
    assert creates[-1] == 'create role if not exists "X""; DROP TABLE MARTS.FCT_WORKFLOW_RUNS; --"'
    rows = {m.group(1) for s in statements
            if (m := re.fullmatch(rf"alter table CC\.marts\.(\w+) add row access policy CC\.governance\.{ROW_POLICY} "
                                  r"on \(workflow_id\)", s))}
    masks = {(m.group(1), m.group(2)) for s in statements
             if (m := re.fullmatch(rf"alter table CC\.marts\.(\w+) modify column (\w+) set masking policy "
                                   rf"CC\.governance\.{MASK_POLICY} force", s))}
    assert rows == {"fct_workflow_runs", "fct_exceptions"}
    assert masks == {("fct_workflow_runs", "owner"), ("fct_exceptions", "routed_owner"),
                     ("fct_exceptions", "resolved_by"), ("agg_owner_leaderboard", "owner")}
    with pytest.raises(SnowflakeRbacError, match="not a plain Snowflake identifier"):
        snowflake_statements(_spec(), {"fct_x; drop": ["workflow_id"]}, database="CC", unrestricted_roles=[])


def _body(prefix: str) -> str:
    (statement,) = [s for s in _statements() if s.startswith(prefix)]
    return statement.split(" -> ", 1)[1]


@pytest.mark.parametrize("session_roles, visible", [
    ({"CONTROLLER"}, {"fulfillment_v2", "invoice_posting_v1"}),
    ({"VIEWER"}, {"fulfillment_v2"}),
    ({"AUDITOR"}, {"fulfillment_v2", "invoice_posting_v1", "returns_processing_v1", None}),
    ({"TRANSFORMER"}, {"fulfillment_v2", "invoice_posting_v1", "returns_processing_v1", None}),
    ({HOSTILE.upper()}, set()),  # its injected-looking scope is one literal workflow id that matches nothing
    (set(), set()),
])
def test_row_access_policy_body_evaluated(session_roles, visible):
    """The body, parsed by sqlglot and transpiled to DuckDB, on hand-made governance rows."""
    body = sqlglot.transpile(
        f"select wf from rows_ where {_body('create row access policy')}", read="snowflake", write="duckdb")[0]
    con = _governance(session_roles)
    con.execute("create table rows_ (wf varchar)")
    con.execute("insert into rows_ values ('fulfillment_v2'), ('invoice_posting_v1'), ('returns_processing_v1'), (null)")
    assert {r for (r,) in con.execute(body.replace("CC.governance.", "")).fetchall()} == visible


@pytest.mark.parametrize("session_roles, expected", [
    ({"AUDITOR"}, ["a@x.com", None]), ({"TRANSFORMER"}, ["a@x.com", None]),
    ({"CONTROLLER"}, [MASK, None]), (set(), [MASK, None]),
])
def test_masking_policy_body_evaluated(session_roles, expected):
    body = sqlglot.transpile(f"select {_body('create masking policy')} from vals", read="snowflake", write="duckdb")[0]
    con = _governance(session_roles)
    con.execute("create table vals (val varchar)")
    con.execute("insert into vals values ('a@x.com'), (null)")
    assert [r for (r,) in con.execute(body.replace("CC.governance.", "") + " order by val nulls last").fetchall()] \
        == expected


def _governance(session_roles: set[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    spec = _spec()
    con.execute("create table rbac_assignments (principal_type varchar, principal varchar, role varchar, scope varchar)")
    con.executemany("insert into rbac_assignments values (?, ?, ?, ?)",
                    [(a.principal_type, a.principal, a.role, a.scope) for a in spec.assignments])
    con.execute("create table rbac_role_permissions (role varchar, permission varchar)")
    con.executemany("insert into rbac_role_permissions values (?, ?)",
                    [(r, p) for r, ps in spec.roles.items() for p in ps])
    con.execute("create table session_roles (r varchar)")
    for r in session_roles:
        con.execute("insert into session_roles values (?)", [r])
    con.execute("create macro is_role_in_session(x) as (x in (select r from session_roles))")
    return con


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["rbac"]["roles"][0]["permissions"].append("read_everything"),
     "rbac.roles[0].permissions[2]: unknown permission 'read_everything'"),
    (lambda d: d["rbac"]["roles"].append({"name": "OPS_VIEWER", "permissions": []}),
     "rbac.roles[3].name: duplicate of rbac.roles[0]"),
])
def test_register_refuses_unknown_permissions_and_case_duplicates(mutate, expected):
    data = copy.deepcopy(yaml.safe_load((REPO_ROOT / "command_center.yml").read_text()))
    mutate(data)
    with pytest.raises(RegisterError) as info:
        parse_register(data, "test.yml")
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors


def test_apply_stops_at_the_first_failure_and_names_it():
    """On fakesnow (in process), which cannot run CREATE ROLE: the error names statement 1 and its text."""
    import fakesnow
    import snowflake.connector

    from orchestration.lib.rbac.snowflake import apply_statements

    with fakesnow.patch():
        con = snowflake.connector.connect(database="CC", schema="MARTS")
        with pytest.raises(SnowflakeRbacError, match=r"statement 1 of \d+ failed \(0 applied before it\): "
                                                     r'create role if not exists "AUDITOR"'):
            apply_statements(con, _statements())
        assert apply_statements(con, ["select 1"]) == 1
        con.close()


def test_a_register_file_error_names_its_line(tmp_path):
    """Loaded from a file, each rbac error carries the YAML line of its path."""
    from orchestration.lib.register import load_register

    text = (REPO_ROOT / "command_center.yml").read_text()
    for old, new in (('"read_metrics", "read_exceptions"]', '"read_metrics", "read_exeptions"]'),
                     ('role: "ops_controller"', 'role: "ops_contoller"'),
                     ('scope: ["fulfillment_v2"]', 'scope: ["fulfilment_v2"]')):
        assert text.count(old) == 1
        text = text.replace(old, new)
    bad = tmp_path / "register.yml"
    bad.write_text(text)
    lines = text.splitlines()
    with pytest.raises(RegisterError) as info:
        load_register(bad)
    assert len(info.value.errors) == 3
    for error, needle in zip(info.value.errors, ("read_exeptions", "ops_contoller", "fulfilment_v2"), strict=True):
        line = int(re.search(r"\(line (\d+)\)$", error).group(1))
        assert needle in error and needle in lines[line - 1], (error, lines[line - 1])


def test_rbac_show_resolves_the_registers_group_members(capsys, monkeypatch):
    """`rbac show` on the shipped register: a member of rbac.groups.CIO-change-advisory holds its role."""
    from orchestration.cli import main

    monkeypatch.delenv("COMMAND_CENTER_REGISTER", raising=False)
    assert main(["rbac", "show", "--user", "cio@company.com"]) == 0
    out = capsys.readouterr().out
    assert "member of CIO-change-advisory" in out and "role change_authority:" in out
    assert main(["rbac", "show", "--user", "nobody@company.com"]) == 1
