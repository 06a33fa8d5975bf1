"""Register validation: each rule fails with a message naming the path and the rule."""
from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.lib.register import (
    RegisterError,
    land_register,
    load_register,
    parse_register,
    register_rows,
)
from orchestration.settings import REPO_ROOT

REGISTER_PATH = REPO_ROOT / "command_center.yml"


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load(REGISTER_PATH.read_text())


def _errors(data: dict) -> list[str]:
    with pytest.raises(RegisterError) as info:
        parse_register(data, "test.yml")
    return info.value.errors


def test_the_shipped_register_is_valid():
    register = load_register(REGISTER_PATH)
    assert len(register.owners) >= 6
    assert {"fulfillment_v2", "inventory_sync_v1", "invoice_posting_v1"} <= set(register.workflow_ids)
    assert register.data_controls.redaction.fields == ["customer_email", "bank_account"]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["owners"][1]["sla"].__setitem__("cycle_time_p90_hours", 0),
         "owners[1].sla.cycle_time_p90_hours: must be greater than 0"),
        (lambda d: d["owners"][0]["sla"].__setitem__("exception_first_touch_minutes", -5),
         "owners[0].sla.exception_first_touch_minutes: must be greater than 0"),
        (lambda d: d["owners"][0]["sla"].__setitem__("exception_resolution_hours", "soon"),
         "owners[0].sla.exception_resolution_hours: must be a valid number"),
        (lambda d: d["owners"][2]["exception_budget"].__setitem__("monthly_rate_pct", 150),
         "owners[2].exception_budget.monthly_rate_pct: must be less than or equal to 100"),
        (lambda d: d["owners"][3].pop("delegate_group"), "owners[3].delegate_group: is required"),
        (lambda d: d["owners"][0].__setitem__("regions", []), "owners[0].regions: must not be empty"),
        (lambda d: d["owners"][0].__setitem__("workflow_id", "bad id!"),
         "owners[0].workflow_id: must contain only letters, digits, '_', '-' and '.'"),
        (lambda d: d["owners"][0].__setitem__("slo", {}), "owners[0].slo: is not a known field"),
        (lambda d: d["exceptions"]["classes"][1].__setitem__("sev", 0),
         "exceptions.classes[1].sev: must be greater than or equal to 1"),
        (lambda d: d["exceptions"]["classes"][2].__setitem__("snooze_policy_minutes", -1),
         "exceptions.classes[2].snooze_policy_minutes: must be greater than or equal to 0"),
        (lambda d: d["data_controls"]["redaction"].__setitem__("fields", ["customer email"]),
         "data_controls.redaction.fields: field name 'customer email' must be an identifier"),
        (lambda d: d["aging_alerts"]["thresholds"].__setitem__("severe_minutes", 10),
         "aging_alerts.thresholds: key 'severe_minutes' must look like sevN_minutes"),
        (lambda d: d.pop("exceptions"), "exceptions: is required"),
        (lambda d: d.pop("cost_model"), "cost_model: is required"),
        (lambda d: d["cost_model"].__setitem__("default_labor_rate_per_hour", 0),
         "cost_model.default_labor_rate_per_hour: must be greater than 0"),
        (lambda d: d["cost_model"]["labor_rates_per_hour"].__setitem__("fin-ops", -3),
         "cost_model.labor_rates_per_hour: rate of team 'fin-ops' must be greater than 0"),
        (lambda d: d["slo_objectives"].__setitem__("run_success_pct", 120),
         "slo_objectives.run_success_pct: must be less than or equal to 100"),
        (lambda d: d["owners"][0]["sla"].__setitem__("objectives", {"first_touch_within_slo_pct": 0}),
         "owners[0].sla.objectives.first_touch_within_slo_pct: must be greater than 0"),
        (lambda d: d["owners"][0]["sla"].__setitem__("objectives", {"uptime_pct": 99}),
         "owners[0].sla.objectives.uptime_pct: is not a known field"),
    ],
)
def test_field_rules_name_path_and_rule(base, mutate, expected):
    data = copy.deepcopy(base)
    mutate(data)
    errors = _errors(data)
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["owners"][1].__setitem__("workflow_id", d["owners"][0]["workflow_id"]),
         "owners[1].workflow_id: duplicate of owners[0]"),
        (lambda d: d["owners"][2].__setitem__("regions", ["us-east-1", "mars-1"]),
         "owners[2].regions[1]: region 'mars-1' has no data_controls.residency entry"),
        (lambda d: d["exceptions"]["classes"][0].__setitem__("sev", 4),
         "exceptions.classes[0].sev: severity 4 has no aging_alerts.thresholds.sev4_minutes"),
        (lambda d: d["exceptions"]["classes"].append(dict(d["exceptions"]["classes"][0])),
         "exceptions.classes[5].code: duplicate of exceptions.classes[0]"),
        (lambda d: d["rbac"]["assignments"][0].__setitem__("role", "superuser"),
         "rbac.assignments[0].role: unknown role 'superuser'"),
        (lambda d: d["rbac"]["assignments"][0].__setitem__("scope", ["no_such_workflow"]),
         "rbac.assignments[0].scope[0]: unknown workflow 'no_such_workflow'"),
        (lambda d: d["cost_model"]["labor_rates_per_hour"].__setitem__("fin-opps", 60),
         "cost_model.labor_rates_per_hour.fin-opps: unknown owner team 'fin-opps'"),
    ],
)
def test_cross_field_rules(base, mutate, expected):
    data = copy.deepcopy(base)
    mutate(data)
    errors = _errors(data)
    assert any(e.startswith(expected) for e in errors), errors


def test_every_error_is_reported_not_just_the_first(base):
    data = copy.deepcopy(base)
    data["owners"][0]["sla"]["cycle_time_p90_hours"] = 0
    data["owners"][1]["exception_budget"]["breach_action"] = ""
    errors = _errors(data)
    assert len(errors) == 2


def test_not_yaml_and_missing_file(tmp_path: Path):
    bad = tmp_path / "r.yml"
    bad.write_text("owners: [\n  - workflow_id: x\n")
    with pytest.raises(RegisterError) as info:
        load_register(bad)
    assert str(bad) in str(info.value) and "<yaml>: line" in str(info.value)
    with pytest.raises(RegisterError, match="file not found"):
        load_register(tmp_path / "absent.yml")
    scalar = tmp_path / "s.yml"
    scalar.write_text("just a string\n")
    with pytest.raises(RegisterError, match="must be a mapping"):
        load_register(scalar)


def test_register_lands_as_tables(tmp_path: Path):
    register = load_register(REGISTER_PATH)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    counts = land_register(con, register, source_path="command_center.yml", sha256="abc")
    assert counts["workflows"] == len(register.owners)
    assert counts["exception_classes"] == len(register.exceptions.classes)
    fulfillment = con.execute(
        "select cycle_time_p90_hours, exception_budget_monthly_rate_pct, breach_action "
        "from governance.slo_targets where workflow_id = 'fulfillment_v2'"
    ).fetchone()
    assert fulfillment == (2.5, 3.0, "raise_change_review")
    # landing twice replaces the tables (no duplicates) and appends a version row
    land_register(con, register, source_path="command_center.yml", sha256="def")
    assert con.execute("select count(*) from governance.workflows").fetchone()[0] == len(register.owners)
    assert con.execute("select count(*) from governance.register_versions").fetchone()[0] == 2


def test_register_rows_route_targets_become_owners():
    rows = register_rows(load_register(REGISTER_PATH))
    owners = {r[0]: r for r in rows["owners"]}
    assert owners["platform-automation@company.com"][3] is True  # route target only
    assert owners["platform-automation@company.com"][2] is False
    assert owners["fin-ops@company.com"][4] == 2  # owns two workflows


def test_slo_objectives_default_and_per_workflow_override():
    register = load_register(REGISTER_PATH)
    rows = {r[0]: r for r in register_rows(register)["slo_targets"]}
    # columns 6..9: cycle-time (always 90), first touch, resolution, run success objectives
    assert rows["fulfillment_v2"][6:10] == (90.0, 95.0, 90.0, 97.0)
    # supplier_onboarding_v1 overrides run_success_pct only
    assert rows["supplier_onboarding_v1"][6:10] == (90.0, 95.0, 90.0, 95.0)


def test_log_check_thresholds_default_and_per_workflow_override():
    rows = {r[0]: r for r in register_rows(load_register(REGISTER_PATH))["slo_targets"]}
    assert rows["fulfillment_v2"][10:] == (26.0, 50.0)  # telemetry defaults
    assert rows["supplier_onboarding_v1"][10:] == (72.0, 20.0)  # owners[].log_checks


def test_labor_rates_per_team_with_default(base):
    data = copy.deepcopy(base)
    del data["cost_model"]["labor_rates_per_hour"]["integrations"]
    rows = register_rows(parse_register(data))
    rates = {r[0]: r for r in rows["labor_rates"]}
    assert rates["fin-ops"] == ("fin-ops", 62.0, "USD", False)
    assert rates["integrations"] == ("integrations", 55.0, "USD", True)  # falls back to the default
    assert rows["cost_model"] == [("USD", 55.0)]
