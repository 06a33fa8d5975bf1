"""Register sections the governance audit reads (issue 13 part 2): rbac.groups, approvals.high_risk_playbooks,
approvals.ai_review_confidence_threshold, approvals.timeout_hours / timeouts - validation (errors name the path and, from a file, the line) and
the governance.* rows they land as."""
from __future__ import annotations

import copy
import re

import duckdb
import pytest
import yaml

from orchestration.lib.register import RegisterError, approval_rows, land_register, load_register, parse_register
from orchestration.settings import REPO_ROOT

REGISTER_PATH = REPO_ROOT / "command_center.yml"


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load(REGISTER_PATH.read_text())


def _errors(data: dict) -> list[str]:
    with pytest.raises(RegisterError) as info:
        parse_register(data, "test.yml")
    return info.value.errors


def test_the_shipped_register_lands_groups_playbooks_and_threshold():
    rows = approval_rows(load_register(REGISTER_PATH))
    assert ("CIO-change-advisory", "cio@company.com") in rows["rbac_group_members"]
    assert rows["approval_playbooks"] == [("replay_failed_invoices", "revert_batch_rollback_v1", 2)]
    assert sorted(rows["approval_playbook_requirements"]) == [
        ("replay_failed_invoices", "precheck", "eu_only_processing"),
        ("replay_failed_invoices", "precheck", "owner_on_call"),
        ("replay_failed_invoices", "role", "change_authority"),
    ]
    assert rows["approval_settings"] == [(0.8, 24.0)]
    assert rows["approval_timeouts"] == [("payment_reconciliation_v1", None, 4.0)]


def test_threshold_defaults_to_0_8_and_members_are_deduplicated(base):
    data = copy.deepcopy(base)
    del data["approvals"]["ai_review_confidence_threshold"]
    del data["approvals"]["timeout_hours"]
    data["rbac"]["groups"]["CIO-change-advisory"] = ["x@company.com", "x@company.com"]
    rows = approval_rows(parse_register(data))
    assert rows["approval_settings"] == [(0.8, 24.0)]
    assert rows["rbac_group_members"] == [("CIO-change-advisory", "x@company.com")]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["rbac"].pop("groups"),
         "rbac.assignments[1].group: group 'CIO-change-advisory' has no members"),
        (lambda d: d["rbac"]["groups"].__setitem__("CIO-change-advisory", []),
         "rbac.assignments[1].group: group 'CIO-change-advisory' has no members"),
        (lambda d: d["rbac"]["groups"].__setitem__("CIO-change-advisory", ["  "]),
         "rbac.groups.CIO-change-advisory: must not contain blank members"),
        (lambda d: d["approvals"].__setitem__("ai_review_confidence_threshold", 1.5),
         "approvals.ai_review_confidence_threshold: must be less than or equal to 1"),
        (lambda d: d["approvals"].__setitem__("ai_review_confidence_threshold", -0.1),
         "approvals.ai_review_confidence_threshold: must be greater than or equal to 0"),
        (lambda d: d["approvals"]["high_risk_playbooks"][0].__setitem__("requires", ["change_autority"]),
         "approvals.high_risk_playbooks[0].requires[0]: unknown role 'change_autority'"),
        (lambda d: d["approvals"]["high_risk_playbooks"].append(dict(d["approvals"]["high_risk_playbooks"][0])),
         "approvals.high_risk_playbooks[1].name: duplicate of approvals.high_risk_playbooks[0]"),
        (lambda d: d["approvals"]["high_risk_playbooks"][0].__setitem__("requires", []),
         "approvals.high_risk_playbooks[0].requires: must not be empty"),
        (lambda d: d["approvals"].__setitem__("typo_threshold", 1),
         "approvals.typo_threshold: is not a known field"),
        (lambda d: d["approvals"].__setitem__("timeout_hours", 0),
         "approvals.timeout_hours: must be greater than 0"),
        (lambda d: d["approvals"]["timeouts"][0].__setitem__("timeout_hours", -1),
         "approvals.timeouts[0].timeout_hours: must be greater than 0"),
        (lambda d: d["approvals"]["timeouts"][0].__setitem__("workflow_id", "payment_recon_v1"),
         "approvals.timeouts[0].workflow_id: unknown workflow 'payment_recon_v1'"),
        (lambda d: d["approvals"]["timeouts"].append(dict(d["approvals"]["timeouts"][0])),
         "approvals.timeouts[1]: duplicate of approvals.timeouts[0]"),
        (lambda d: d["approvals"]["timeouts"][0].__setitem__("stage", ""),
         "approvals.timeouts[0].stage: "),
    ],
)
def test_rules(base, mutate, expected):
    data = copy.deepcopy(base)
    mutate(data)
    errors = _errors(data)
    assert any(e.startswith(expected) for e in errors), errors


def test_a_group_without_members_names_the_assignment_line(tmp_path):
    text = REGISTER_PATH.read_text()
    old = '    CIO-change-advisory: ["cio@company.com", "change.manager@company.com", "risk.officer@company.com"]\n'
    assert text.count(old) == 1
    text = text.replace(old, '    ops-leads: ["a.lee@company.com"]\n')
    bad = tmp_path / "register.yml"
    bad.write_text(text)
    with pytest.raises(RegisterError) as info:
        load_register(bad)
    [error] = info.value.errors
    line = int(re.search(r"\(line (\d+)\)$", error).group(1))
    assert "CIO-change-advisory" in error and 'group: "CIO-change-advisory"' in text.splitlines()[line - 1]


def test_land_register_writes_the_tables(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    counts = land_register(con, load_register(REGISTER_PATH), source_path="command_center.yml", sha256="x")
    assert counts["rbac_group_members"] == 3 and counts["approval_playbooks"] == 1
    assert counts["approval_playbook_requirements"] == 3 and counts["approval_settings"] == 1
    assert con.execute("select ai_review_confidence_threshold, default_timeout_hours from governance.approval_settings"
                       ).fetchall() == [(0.8, 24.0)]
    assert con.execute("select * from governance.approval_timeouts").fetchall() == [("payment_reconciliation_v1", None, 4.0)]
    con.close()
