"""The evidence pack's governance sections (issue 13 part 6): the governance log extract and approval
compliance with the violations, for one month (UTC). Called by orchestration/lib/audit/evidence.py.

* governance_log.csv: the governance log's actions of the period (raw.governance_actions, by action_ts):
  who did what, model, confidence, reviewer, decision, prechecks, rollback - and of the prompt only its
  salted sha256 and length, never its text (even when approvals.store_prompt_text keeps it);
* approval_compliance.csv: fct_playbook_executions rows of the period (by executed_at): each run of a
  high-risk playbook with its paired approval and checks;
* governance_violations.csv: fct_governance_violations rows of the period (by action_ts), with evidence
  and the owner each is routed to;
* governance_compliance.json: the counts (runs, compliant runs, violations per type and per workflow).

The marts are read from the warehouse's ``marts`` schema as the last build left them; a warehouse
built before the governance audit existed yields header-only files, and the JSON says so.
"""
from __future__ import annotations

from datetime import datetime

#: Columns of governance_log.csv. prompt_text is deliberately absent.
LOG_COLUMNS: tuple[str, ...] = (
    "action_id", "action_ts", "workflow_id", "run_id", "actor", "actor_role", "action", "playbook", "decision",
    "reviewer_id", "model_name", "model_version", "confidence", "prompt_sha256", "prompt_length", "prechecks",
    "rollback", "load_id",
)
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "action_id", "workflow_id", "run_id", "playbook", "actor", "executed_at", "required_roles",
    "approval_action_id", "approver", "approved_at", "approval_status", "approver_holds_required_role",
    "approver_in_scope", "is_self_approval", "required_precheck_count", "recorded_precheck_count",
    "missing_prechecks", "declared_rollback", "required_rollback", "is_rollback_defined", "is_compliant", "routed_owner",
)
VIOLATION_COLUMNS: tuple[str, ...] = (
    "violation_id", "violation_type", "action_id", "workflow_id", "run_id", "playbook", "action", "actor",
    "action_ts", "week_start", "related_action_id", "approver", "confidence", "confidence_threshold",
    "prompt_sha256", "evidence", "routed_owner", "owner_team",
)


def _exists(con, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def _select(con, schema: str, table: str, columns: tuple[str, ...], ts: str, start: datetime, end: datetime,
            order: str) -> list[tuple] | None:
    if not _exists(con, schema, table):
        return None
    # timestamptz columns compared as their UTC wall clock (the period is UTC); plain timestamps as they are
    when = f"cast(timezone('UTC', {ts}) as timestamp)" if schema == "raw" else ts
    return con.execute(
        f"select {', '.join(columns)} from {schema}.{table} where {when} >= ? and {when} < ? order by {order}",
        [start, end],
    ).fetchall()


def governance_rows(con, start: datetime, end: datetime) -> dict:
    """The three extracts of [start, end) and the counts (None for a table the warehouse lacks)."""
    log = _select(con, "raw", "governance_actions", LOG_COLUMNS, "action_ts", start, end, "action_ts, action_id")
    runs = _select(con, "marts", "fct_playbook_executions", COMPLIANCE_COLUMNS, "executed_at", start, end,
                   "executed_at, action_id")
    violations = _select(con, "marts", "fct_governance_violations", VIOLATION_COLUMNS, "action_ts", start, end,
                         "action_ts, violation_type, action_id")
    compliant = COMPLIANCE_COLUMNS.index("is_compliant")
    kind, workflow = VIOLATION_COLUMNS.index("violation_type"), VIOLATION_COLUMNS.index("workflow_id")
    by_type: dict[str, int] = {}
    by_workflow: dict[str, int] = {}
    for row in violations or []:
        by_type[row[kind]] = by_type.get(row[kind], 0) + 1
        by_workflow[row[workflow]] = by_workflow.get(row[workflow], 0) + 1
    summary = {
        "governance_log_landed": log is not None,
        "governance_audit_built": runs is not None and violations is not None,
        "actions": None if log is None else len(log),
        "high_risk_playbook_runs": None if runs is None else len(runs),
        "compliant_runs": None if runs is None else sum(1 for r in runs if r[compliant]),
        "violations": None if violations is None else len(violations),
        "violations_by_type": dict(sorted(by_type.items())),
        "violations_by_workflow": dict(sorted(by_workflow.items())),
    }
    return {"log": log or [], "runs": runs or [], "violations": violations or [], "summary": summary}


def summary_lines(period: str, summary: dict) -> list[str]:
    """summary.md's governance sections."""
    s = summary
    if not s["governance_log_landed"]:
        log_text = "The warehouse has no governance log table (nothing landed with `--log-format governance`)."
    else:
        log_text = (f"{s['actions']} action(s) of the orchestrator's governance log in {period} (by action time, "
                    "UTC): who did what, AI model, confidence and reviewer, approvals and their decision, playbook "
                    "prechecks and rollback. Prompts appear only as their salted sha256 and length, never as text.")
    if not s["governance_audit_built"]:
        audit_text = "The governance audit marts are not built in this warehouse (run `command-center build`)."
    else:
        types = ", ".join(f"{k} {v}" for k, v in s["violations_by_type"].items()) or "none"
        audit_text = (
            f"{s['high_risk_playbook_runs']} run(s) of high-risk playbooks in {period}, {s['compliant_runs']} compliant "
            "(approved before the run by an identity holding a required role in scope, not self-approved, prechecks "
            f"recorded, rollback defined). {s['violations']} violation(s): {types}. Definitions: "
            "models/marts/governance_audit/_governance_audit__docs.md; counts in `governance_compliance.json`.")
    return [
        "## Governance log extract (`governance_log.csv`)",
        "",
        log_text,
        "",
        "## Approval compliance and violations (`approval_compliance.csv`, `governance_violations.csv`)",
        "",
        audit_text,
        "",
    ]
