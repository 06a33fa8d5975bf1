"""The governance audit marts (issue 13 part 2) on a generated governance log with planted violations.

The shared warehouse's runs get their governance log (orchestration/lib/generator/governance_log.py: the
same run ids, one planted violation of each kind, listed in a manifest), landed with
`command-center ingest --log-format governance` into a copy, then one dbt build of the audit marts. Every
planted violation must appear exactly once, with its type, and nothing else: the generator's compliant
runs, AI actions and changes raise none. Then the evidence pack's governance files, the demo lines and
the Dagster daily job.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.lib.generator.governance_log import generate_governance_log, write_governance_log
from orchestration.lib.register import load_register
from orchestration.settings import REPO_ROOT

pytestmark = pytest.mark.integration

#: fct_governance_violations.violation_type values (the generator's manifest uses the same names)
TYPES = ("unapproved_run", "approver_wrong_role", "approver_out_of_scope", "approved_after_execution",
         "self_approval", "missing_prechecks", "missing_rollback", "ai_action_without_review", "unauthorized_change")
MARTS = ("fct_playbook_executions", "fct_governance_violations", "agg_governance_violations_weekly")


@pytest.fixture(scope="module")
def audited(shared_warehouse, tmp_path_factory, cc_env):
    """A copy of the shared warehouse with the governance log of its runs landed and the audit marts built."""
    root = tmp_path_factory.mktemp("governance_marts")
    db = root / "warehouse" / "command_center.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(shared_warehouse.db, db)
    mp = pytest.MonkeyPatch()
    try:
        cc_env.apply(mp, root, duckdb=db)
        log_path = root / "governance.jsonl"
        log = generate_governance_log(pq.read_table(shared_warehouse.events),
                                      register=load_register(REPO_ROOT / "command_center.yml"), seed=3)
        write_governance_log(log, log_path, "jsonl")
        assert main(["ingest", "--log-format", "governance", str(log_path)]) == 0
        assert main(["build", "--select", "int_identity_roles_resolved+", "fct_playbook_executions+"]) == 0
    finally:
        mp.undo()
    return db, log, root


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_generator_planted_something(audited):
    _, log, _ = audited
    assert set(log.manifest["violations"]) == set(TYPES), log.manifest.get("not_planted")
    assert log.manifest["not_planted"] == {}


def test_every_planted_violation_appears_exactly_once_and_nothing_else(audited):
    db, log, _ = audited
    actions = dict(_rows(db, "select action_id, action from raw.governance_actions"))
    expected = set()
    for kind, ids in log.manifest["violations"].items():
        # the offending action: the playbook run for the run checks, else the action itself
        offending = [i for i in ids if actions.get(i) == "playbook_run"] or ids
        assert len(offending) == 1, (kind, ids)
        expected.add((kind, offending[0]))
    found = _rows(db, "select violation_type, action_id from marts.fct_governance_violations")
    assert sorted(found) == sorted(expected)  # exactly once each (a list, not a set), and no other violation


def test_the_paired_approval_and_routing(audited):
    db, log, _ = audited
    ids = log.manifest["violations"]
    rows = {r[0]: r[1:] for r in _rows(db, "select violation_type, related_action_id, routed_owner, evidence "
                                           "from marts.fct_governance_violations")}
    # wrong role / out of scope / after / self: the violation names the planted approval
    for kind in ("approver_wrong_role", "approver_out_of_scope", "approved_after_execution", "self_approval"):
        related, owner, evidence = rows[kind]
        assert related in ids[kind] and owner and "@" not in evidence, (kind, rows[kind])
    assert rows["unapproved_run"][0] is None


def test_compliant_runs_raise_nothing(audited):
    db, log, _ = audited
    planted = {i for ids in log.manifest["violations"].values() for i in ids}
    runs = _rows(db, "select action_id, is_compliant, approval_status from marts.fct_playbook_executions")
    assert len(runs) > 10
    noncompliant = {r[0] for r in runs if not r[1]}
    assert noncompliant and noncompliant <= planted
    assert all(r[1] for r in runs if r[0] not in planted)
    # the low-risk playbooks' runs are not audited here
    low = _rows(db, "select count(*) from raw.governance_actions where action = 'playbook_run' "
                    "and playbook <> 'replay_failed_invoices'")[0][0]
    high = _rows(db, "select count(*) from raw.governance_actions where action = 'playbook_run' "
                     "and playbook = 'replay_failed_invoices'")[0][0]
    assert low > 0 and high == len(runs)


def test_weekly_counts_sum_to_the_violations_and_are_zero_filled(audited):
    db, _, _ = audited
    [(total, rows, types, zeros)] = _rows(db, "select sum(violations), count(*), count(distinct violation_type), "
                                             "count(*) filter (where violations = 0) "
                                             "from marts.agg_governance_violations_weekly")
    assert total == _rows(db, "select count(*) from marts.fct_governance_violations")[0][0]
    assert types == 9 and rows % 9 == 0 and zeros > 0


def test_evidence_pack_holds_the_governance_files(audited, capsys):
    db, log, root = audited
    out = root / "pack"
    period = _rows(db, "select strftime(max(action_ts), '%Y-%m') from marts.fct_governance_violations")[0][0]
    assert main(["evidence", "--period", period, "--out", str(out), "--duckdb", str(db)]) == 0
    manifest = {line.split("  ")[1] for line in (out / "MANIFEST.sha256").read_text().splitlines()}
    assert {"governance_log.csv", "approval_compliance.csv", "governance_violations.csv",
            "governance_compliance.json"} <= manifest
    extract = list(csv.DictReader((out / "governance_log.csv").open()))
    assert extract and "prompt_text" not in extract[0] and "prompt" not in extract[0]
    assert any(r["prompt_sha256"] and int(r["prompt_length"]) > 0 for r in extract)
    prompts = [r["prompt"] for r in log.rows if r.get("prompt")]
    text = "".join(p.read_text() for p in out.iterdir())
    assert prompts and not any(p in text for p in prompts)  # never a prompt's text
    violations = list(csv.DictReader((out / "governance_violations.csv").open()))
    summary = json.loads((out / "governance_compliance.json").read_text())
    assert summary["violations"] == len(violations) > 0 and summary["governance_audit_built"]
    assert sum(summary["violations_by_type"].values()) == len(violations)
    compliance = list(csv.DictReader((out / "approval_compliance.csv").open()))
    assert summary["compliant_runs"] == sum(r["is_compliant"] == "True" for r in compliance)
    md = (out / "summary.md").read_text()
    assert "## Approval compliance and violations" in md and "## Governance log extract" in md


def test_demo_lines_and_the_daily_job(audited, cc_env, monkeypatch, tmp_path):
    from orchestration.lib.governance_report import governance_section

    db, _, _ = audited
    con = duckdb.connect(str(db), read_only=True)
    try:
        text = "\n".join(governance_section(con))
    finally:
        con.close()
    assert "Governance violations per workflow:" in text and "invoice_posting_v1" in text
    assert "unauthorized_change 1" in text

    import dagster as dg

    from orchestration.defs import build_definitions

    cc_env.apply(monkeypatch, tmp_path)
    job = build_definitions().resolve_job_def("daily_land_and_build")
    assert {dg.AssetKey(["marts", m]) for m in MARTS} <= set(job.asset_layer.selected_asset_keys)
