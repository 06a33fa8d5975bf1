"""The register's alerting section: each rule fails with a message naming the path; the section lands."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.lib.alert_register import Alerting, alerting_rows
from orchestration.lib.register import RegisterError, land_register, load_register, parse_register
from orchestration.settings import REPO_ROOT

REGISTER_PATH = REPO_ROOT / "command_center.yml"


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load(REGISTER_PATH.read_text())


def _errors(base: dict, mutate) -> list[str]:
    data = copy.deepcopy(base)
    mutate(data["alerting"])
    with pytest.raises(RegisterError) as info:
        parse_register(data, "test.yml")
    return info.value.errors


def _rule(data: dict, i: int) -> dict:
    return data["exception_rules"][i]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda a: _rule(a, 0).pop("threshold_minutes"),
     "alerting.exception_rules[0].threshold_minutes: is required for a latency rule"),
    (lambda a: _rule(a, 0).update(factor=3),
     "alerting.exception_rules[0].factor: does not apply to a latency rule"),
    (lambda a: _rule(a, 0).update(kind="speed"), "alerting.exception_rules[0].kind: must be 'latency'"),
    (lambda a: _rule(a, 0).update(workflow_id="nope"),
     "alerting.exception_rules[0].workflow_id: unknown workflow 'nope'"),
    (lambda a: _rule(a, 0).update(exception_class="NOPE"),
     "alerting.exception_rules[0].exception_class: unknown exception class 'NOPE'"),
    (lambda a: _rule(a, 1).update(name=_rule(a, 0)["name"]),
     "alerting.exception_rules[1].name: duplicate of alerting.exception_rules[0]"),
    (lambda a: _rule(a, 3).update(required_field="owner"),
     "alerting.exception_rules[3]: a completeness rule names exactly one of required_stage, required_field"),
    (lambda a: _rule(a, 6).update(forbidden_transitions=["a b"]), "must look like 'a -> b'"),
    (lambda a: _rule(a, 6).update(forbidden_transitions=None),
     "alerting.exception_rules[6]: a conformance rule sets use_reference_path: true or lists forbidden_transitions"),
    (lambda a: _rule(a, 6).update(use_reference_path=True),
     "alerting.exception_rules[6].use_reference_path: 'fulfillment_v2' has no process_mining.reference_paths entry"),
    (lambda a: a.update(slo_window_days=29), "alerting.slo_window_days: must be 28 or 30"),
    (lambda a: a["business_hours"].update(timezone="Mars/Olympus"), "unknown IANA time zone 'Mars/Olympus'"),
    (lambda a: a["business_hours"].update(days=[0, 1]), "distinct ISO weekdays"),
    (lambda a: a["severities"].pop("info"), "must have exactly the keys page, ticket, info"),
    (lambda a: a["severities"]["page"]["escalation"].reverse(), "increasing after_minutes order"),
    (lambda a: a["runbooks"]["exception_classes"].update(NOPE="https://x"),
     "alerting.runbooks.exception_classes.NOPE: unknown exception class 'NOPE'"),
    (lambda a: a["silences"].append({"kind": "snooze", "alert_source": "slo_burn", "workflow_id": "fulfillment_v2",
                                     "by": "x"}), "alerting.silences[1].until: a snooze needs an end time"),
    (lambda a: a["silences"][0].update(alert_name="no_such_rule"),
     "alerting.silences[0].alert_name: unknown exception rule 'no_such_rule'"),
])
def test_alerting_rules_name_path_and_rule(base, mutate, expected):
    errors = _errors(base, mutate)
    assert any(expected in e for e in errors), errors


def test_defaults_and_rows():
    alerting = Alerting.model_validate({"exception_rules": [
        {"name": "v", "workflow_id": "w", "kind": "volume", "factor": 3, "event_type": "stage_timed_out"}]})
    rows = alerting_rows(alerting)
    assert rows["alert_settings"] == [(28, "UTC", "12345", 9, 17)]
    assert [r[0] for r in rows["alert_severities"]] == ["page", "ticket", "info"]
    assert json.loads(rows["alert_severities"][0][3])[0] == {"after_minutes": 0.0, "notify": "owner"}
    rule = rows["alert_rules"][0]
    assert rule[0:4] == ("v", "w", "volume", "ticket")
    assert rule[11] == 24.0 and rule[19] == 7 and rule[20] == 1  # window_hours, baseline_windows, min_count


def test_alerting_lands_as_tables(tmp_path: Path):
    register = load_register(REGISTER_PATH)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    counts = land_register(con, register, source_path="command_center.yml", sha256="abc")
    assert counts["alert_rules"] == len(register.alerting.exception_rules)
    assert counts["alert_severities"] == 3
    assert con.execute("select slo_window_days, business_timezone from governance.alert_settings").fetchone() == (
        28, "Europe/London")
    assert con.execute("""select activity, next_activity from governance.alert_rule_transitions
                          where rule_name = 'fulfillment_dispatch_before_pick'""").fetchall() == [
        ("allocate_inventory", "dispatch")]
