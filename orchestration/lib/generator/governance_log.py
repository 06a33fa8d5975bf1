"""A realistic governance log (the orchestrator's action log, docs/governance-log.md) for generated runs,
with planted violations listed in a manifest.

``generate_governance_log(events, register=..., seed=...)`` reads the runs of a table made by
``generate_events`` (so its run ids are the events' run ids) and writes, per run:

* AI-assisted ``tool_action`` rows on a share of runs: actor ``orchestrator``, a prompt, model name and
  version, a confidence; a reviewer (a member of a group of the register) whenever the confidence is
  below ``approvals.ai_review_confidence_threshold`` (and on some others);
* for failed runs of a workflow that a high-risk playbook serves (``replay_failed_invoices`` ->
  invoice_posting_v1, or the first registered workflow for any other name): an ``approval`` by a
  member of a group holding a role the playbook requires with a scope covering the workflow, then the
  ``playbook_run`` by the orchestrator with the playbook's prechecks and rollback;
* ``playbook_run`` rows of the register's low-risk playbooks (no approval needed);
* a few ``modify_sla`` / ``assign_owner`` changes by holders of the ``change_authority`` role.

Every one of those rows is compliant; then one instance of each violation kind of VIOLATION_KINDS is
planted (on its own runs, so each breaks exactly one rule), and a few rows that landing quarantines
(BAD_ROW_REASONS). The manifest returned lists both, by action_id.

Identities resolve through the register: ``rbac.assignments`` of users and groups, and
``rbac.groups`` for a group's members (the register refuses a group assignment without members, so
there is no fallback list). A violation kind the register cannot express (no identity holds a required role out of scope, no identity lacks it) is
listed under ``not_planted`` with the reason.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.lib.generator.common import check_format, rng_seed

#: The violation types fct_governance_violations names (models/marts/governance_audit), each planted once.
VIOLATION_KINDS: tuple[str, ...] = (
    "unapproved_run",             # a high-risk playbook run with no approval
    "approver_wrong_role",        # approved by an identity without a required role
    "approver_out_of_scope",      # approved by a role holder whose scope does not cover the workflow
    "approved_after_execution",   # the only granted approval comes after the run
    "self_approval",              # approver = runner
    "ai_action_without_review",   # AI action below the confidence threshold without reviewer_id
    "unauthorized_change",        # modify_sla / assign_owner by an identity without change_authority
    "missing_prechecks",          # a high-risk run without (all) its prechecks recorded
    "missing_rollback",           # a high-risk run without a rollback
)
#: The kinds planted on runs of the high-risk playbook (seven runs, one kind each).
PLAYBOOK_KINDS: tuple[str, ...] = tuple(k for k in VIOLATION_KINDS if k not in ("ai_action_without_review", "unauthorized_change"))
#: Rows landing quarantines, with their reason code.
BAD_ROW_REASONS: tuple[str, ...] = ("unknown_role", "unknown_playbook", "unparseable_timestamp")

ORCHESTRATOR = "orchestrator"
CHANGE_AUTHORITY = "change_authority"
MODELS = (("ops-assistant", "2026.09"), ("ops-assistant", "2026.10"), ("triage-small", "1.4.2"))
TOOLS = ("create_ticket", "classify_exception", "draft_customer_reply", "lookup_vendor", "suggest_retry")
#: the workflow a playbook named like this serves (others: the first registered workflow)
PLAYBOOK_WORKFLOWS = {"replay_failed_invoices": "invoice_posting_v1"}
COLUMNS: tuple[str, ...] = (
    "action_id", "workflow_id", "run_id", "actor", "actor_role", "action", "playbook", "prompt", "model_name",
    "model_version", "confidence", "reviewer_id", "decision", "prechecks", "rollback", "ts", "tool", "ticket",
    "change", "customer_email",
)


@dataclass
class GovernanceLog:
    rows: list[dict]
    #: {"violations": {kind: [action_id, ...]}, "quarantined": {reason: [action_id, ...]},
    #:  "not_planted": {kind: why}, "counts": {...}}
    manifest: dict = field(default_factory=dict)


@dataclass
class _Identities:
    """Who holds which role where, from the register's rbac (users, and group members)."""

    grants: dict[str, list[tuple[str, tuple[str, ...]]]]  # identity -> [(role, scope)]

    def holders(self, role: str, workflow: str) -> list[str]:
        return sorted(i for i, gs in self.grants.items() if any(r == role and _covers(s, workflow) for r, s in gs))

    def out_of_scope(self, role: str, workflow: str) -> list[str]:
        return sorted(i for i, gs in self.grants.items()
                      if any(r == role for r, _ in gs) and not any(r == role and _covers(s, workflow) for r, s in gs))

    def without(self, roles: set[str]) -> list[str]:
        return sorted(i for i, gs in self.grants.items() if not roles & {r for r, _ in gs})

    def role_of(self, identity: str) -> str | None:
        gs = self.grants.get(identity)
        return gs[0][0] if gs else None


def _covers(scope: tuple[str, ...], workflow: str) -> bool:
    return "*" in scope or workflow in scope


def identities(register) -> _Identities:
    groups = register.rbac.groups
    grants: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for a in register.rbac.assignments:
        members = [a.user] if a.user else list(groups.get(a.group, []))
        for m in members:
            grants.setdefault(m, []).append((a.role, tuple(a.scope)))
    return _Identities(grants)


def _runs(events: pa.Table, workflows: list[str]) -> list[tuple[str, str, datetime, bool]]:
    """(workflow_id, run_id, started, failed) of the table's well-formed runs of registered workflows."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("events", events.select(["workflow_id", "run_id", "event_type", "event_ts"]))
    return con.execute(
        """select workflow_id, run_id, min(try_cast(event_ts as timestamptz)) filter (where event_type = 'run_started'),
                  bool_or(event_type = 'run_failed')
           from events
           where list_contains(?, workflow_id) and regexp_full_match(run_id, '[A-Za-z0-9_-]{1,64}')
           group by all
           having min(try_cast(event_ts as timestamptz)) filter (where event_type = 'run_started') is not null
           order by 1, 2""",
        [workflows],
    ).fetchall()


class _Builder:
    def __init__(self, rng: np.random.Generator, register, namespace: str = ""):
        self.rng = rng
        self.namespace = namespace
        self.rows: list[dict] = []
        self.ids = identities(register)
        self.threshold = register.approvals.ai_review_confidence_threshold
        self.reviewers = sorted(self.ids.grants) or [ORCHESTRATOR]

    def add(self, **row) -> str:
        row["action_id"] = f"act_{self.namespace}{len(self.rows) + 1:06d}"
        self.rows.append(row)
        return row["action_id"]

    def pick(self, values):
        return values[int(self.rng.integers(len(values)))]

    def ai_action(self, wf: str, run: str, t: datetime, *, confidence: float | None = None, reviewed: bool | None = None) -> str:
        conf = round(float(self.rng.beta(8, 2)) if confidence is None else confidence, 3)
        if reviewed is None:
            reviewed = conf < self.threshold or bool(self.rng.random() < 0.2)
        model, version = self.pick(MODELS)
        tool = self.pick(TOOLS)
        ticket = f"OPS-{int(self.rng.integers(1000, 99999))}"
        prompt = (f"[{tool}] Run {run} of {wf} needs attention: summarise what failed, propose the next step "
                  f"and draft a note for ticket {ticket}.")
        extra = {"customer_email": f"customer{int(self.rng.integers(1, 500))}@example.com"} if tool == "draft_customer_reply" else {}
        return self.add(workflow_id=wf, run_id=run, actor=ORCHESTRATOR, action="tool_action", prompt=prompt,
                        model_name=model, model_version=version, confidence=conf,
                        reviewer_id=self.pick(self.reviewers) if reviewed else None, ts=t, tool=tool, ticket=ticket, **extra)

    def approval(self, wf: str, run: str, playbook: str, approver: str, t: datetime, role: str | None) -> str:
        return self.add(workflow_id=wf, run_id=run, actor=approver, actor_role=role, action="approval",
                        playbook=playbook, decision="granted", ts=t, ticket=f"CHG-{int(self.rng.integers(100, 9999))}")

    def playbook_run(self, wf: str, run: str, playbook, t: datetime, *, runner: str = ORCHESTRATOR,
                     prechecks: list[str] | None = None, rollback: str | None = None) -> str:
        name = playbook if isinstance(playbook, str) else playbook.name
        if prechecks is None and not isinstance(playbook, str):
            prechecks = list(playbook.prechecks)
        if rollback is None and not isinstance(playbook, str):
            rollback = playbook.rollback or f"{name}_rollback"
        return self.add(workflow_id=wf, run_id=run, actor=runner, actor_role=self.ids.role_of(runner), action="playbook_run",
                        playbook=name, prechecks=prechecks, rollback=rollback, ts=t)


def _high_risk_runs(b: _Builder, register, runs, high) -> dict[str, str]:
    """Compliant approved runs of the high-risk playbook; returns the runs left for planting."""
    wf = PLAYBOOK_WORKFLOWS.get(high.name) or register.owners[0].workflow_id
    # failed runs first (they are what the playbook replays), then runs that completed with some failures
    candidates = [r for r in runs if r[0] == wf and r[3]] + [r for r in runs if r[0] == wf and not r[3]]
    approvers = [i for role in high.requires for i in b.ids.holders(role, wf)]
    planted = candidates[:7]  # the first failed runs carry the planted playbook violations
    for _, run, started, failed in candidates[7:]:
        if b.rng.random() < (0.9 if failed else 0.15) and approvers:
            t_run = started + timedelta(hours=float(b.rng.uniform(1, 6)))
            approver = b.pick(approvers)
            b.approval(wf, run, high.name, approver, t_run - timedelta(minutes=float(b.rng.uniform(5, 90))),
                       b.ids.role_of(approver))
            b.playbook_run(wf, run, high, t_run)
    return {"workflow": wf, "runs": planted, "approvers": approvers}


def _plant_playbook_violations(b: _Builder, high, planted: dict, manifest: dict) -> None:
    wf, runs, approvers = planted["workflow"], planted["runs"], planted["approvers"]
    required = set(high.requires)
    for kind, (_, run, started, _) in zip(PLAYBOOK_KINDS, runs, strict=False):
        t_run = started + timedelta(hours=2)
        before, after = t_run - timedelta(minutes=30), t_run + timedelta(minutes=20)
        ids: list[str] = []
        if kind == "unapproved_run":
            ids.append(b.playbook_run(wf, run, high, t_run))
        elif kind == "approver_wrong_role":
            wrong = [i for i in b.ids.without(required) if i != ORCHESTRATOR]
            if not wrong:
                manifest["not_planted"][kind] = "no identity of the register lacks the required role"
                continue
            ids += [b.approval(wf, run, high.name, wrong[0], before, b.ids.role_of(wrong[0])), b.playbook_run(wf, run, high, t_run)]
        elif kind == "approver_out_of_scope":
            outside = [i for role in required for i in b.ids.out_of_scope(role, wf)]
            if not outside:
                manifest["not_planted"][kind] = f"no identity holds {', '.join(sorted(required))} with a scope leaving out {wf}"
                continue
            ids += [b.approval(wf, run, high.name, outside[0], before, sorted(required)[0]), b.playbook_run(wf, run, high, t_run)]
        elif kind == "approved_after_execution":
            ids += [b.playbook_run(wf, run, high, t_run), b.approval(wf, run, high.name, approvers[0], after, b.ids.role_of(approvers[0]))]
        elif kind == "self_approval":
            ids += [b.approval(wf, run, high.name, approvers[-1], before, b.ids.role_of(approvers[-1])),
                    b.playbook_run(wf, run, high, t_run, runner=approvers[-1])]
        elif kind == "missing_prechecks":
            ids += [b.approval(wf, run, high.name, approvers[0], before, b.ids.role_of(approvers[0])),
                    b.playbook_run(wf, run, high, t_run, prechecks=list(high.prechecks)[:-1] or [])]
        else:  # missing_rollback: the run declares none
            ids += [b.approval(wf, run, high.name, approvers[0], before, b.ids.role_of(approvers[0]))]
            row_id = b.playbook_run(wf, run, high, t_run, rollback="")
            b.rows[-1]["rollback"] = None
            ids.append(row_id)
        manifest["violations"][kind] = ids


def _changes(b: _Builder, register, runs, manifest: dict) -> None:
    """SLA / owner changes by change_authority holders; one by an identity without the role (planted)."""
    wfs = [o.workflow_id for o in register.owners]
    start = min(r[2] for r in runs)
    for k, wf in enumerate(wfs):
        holders = b.ids.holders(CHANGE_AUTHORITY, wf)
        if not holders:
            continue
        action = "modify_sla" if k % 2 == 0 else "assign_owner"
        change = {"field": "cycle_time_p90_hours", "from": 4, "to": 6} if action == "modify_sla" else {
            "field": "service_owner", "to": f"owner{k}@company.com"}
        b.add(workflow_id=wf, actor=holders[k % len(holders)], actor_role=CHANGE_AUTHORITY, action=action,
              change=json.dumps(change), ts=start + timedelta(days=k + 1, hours=3))
    outsiders = [i for i in b.ids.without({CHANGE_AUTHORITY}) if i != ORCHESTRATOR]
    if not outsiders:
        manifest["not_planted"]["unauthorized_change"] = "every identity of the register holds change_authority"
        return
    manifest["violations"]["unauthorized_change"] = [b.add(
        workflow_id=wfs[0], actor=outsiders[0], actor_role=b.ids.role_of(outsiders[0]), action="modify_sla",
        change=json.dumps({"field": "cycle_time_p90_hours", "from": 4, "to": 12}), ts=start + timedelta(days=2, hours=5))]


def _bad_rows(b: _Builder, runs, high_name: str, manifest: dict) -> None:
    wf, run, started, _ = runs[0]
    manifest["quarantined"] = {
        "unknown_role": [b.add(workflow_id=wf, run_id=run, actor=ORCHESTRATOR, actor_role="superuser",
                               action="tool_action", ts=started + timedelta(minutes=3))],
        "unknown_playbook": [b.add(workflow_id=wf, run_id=run, actor=ORCHESTRATOR, action="playbook_run",
                                   playbook="drop_all_queues", ts=started + timedelta(minutes=4))],
        "unparseable_timestamp": [b.add(workflow_id=wf, run_id=run, actor=ORCHESTRATOR, action="playbook_run",
                                        playbook=high_name, ts="yesterday afternoon")],
    }


def generate_governance_log(events: pa.Table, *, register, seed: int = 7) -> GovernanceLog:
    """The governance log for the runs of ``events`` (see the module docstring). Deterministic."""
    rng = np.random.default_rng(rng_seed(seed, 1301))
    runs = _runs(events, [o.workflow_id for o in register.owners])
    # action ids unique across generated logs: a hash of the seed and the runs acted on, then a counter
    namespace = hashlib.sha256(f"{seed}:{','.join(r[1] for r in runs)}".encode()).hexdigest()[:10] + "_"
    b = _Builder(rng, register, namespace)
    manifest: dict = {"violations": {}, "quarantined": {}, "not_planted": {}}
    if not runs or not register.approvals.high_risk_playbooks:
        manifest["not_planted"] = {k: "no runs or no high-risk playbook in the register" for k in VIOLATION_KINDS}
        return GovernanceLog([], manifest)
    high = register.approvals.high_risk_playbooks[0]
    low = list(register.approvals.low_risk_playbooks)
    for wf, run, started, failed in runs:  # AI assistance on about one run in six; low-risk restarts of failures
        if rng.random() < 0.17:
            b.ai_action(wf, run, started + timedelta(minutes=float(rng.uniform(1, 45))))
        if failed and low and rng.random() < 0.5:
            b.playbook_run(wf, run, b.pick(low), started + timedelta(minutes=float(rng.uniform(50, 120))))
    planted = _high_risk_runs(b, register, runs, high)
    if len(planted["runs"]) < 7 or not planted["approvers"]:
        manifest["not_planted"].update({k: "too few runs of the playbook's workflow, or no approver" for k in PLAYBOOK_KINDS})
    else:
        _plant_playbook_violations(b, high, planted, manifest)
    wf, run, started, _ = runs[-1]
    manifest["violations"]["ai_action_without_review"] = [
        b.ai_action(wf, run, started + timedelta(minutes=7), confidence=round(b.threshold * 0.6, 3), reviewed=False)]
    _changes(b, register, runs, manifest)
    _bad_rows(b, runs, high.name, manifest)
    for row in b.rows:
        if isinstance(row["ts"], datetime):
            row["ts"] = row["ts"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    b.rows.sort(key=lambda r: (r["ts"], r["action_id"]))
    manifest["counts"] = {"rows": len(b.rows), "runs": len(runs),
                          "by_action": {a: sum(r["action"] == a for r in b.rows) for a in sorted({r["action"] for r in b.rows})}}
    return GovernanceLog(b.rows, manifest)


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------


def _table(rows: list[dict], *, prechecks_as_text: bool) -> pa.Table:
    cols: dict[str, list] = {c: [r.get(c) for r in rows] for c in COLUMNS}
    if prechecks_as_text:
        cols["prechecks"] = [None if p is None else ";".join(p) for p in cols["prechecks"]]
    types = {c: pa.string() for c in COLUMNS}
    types["confidence"] = pa.float64()
    types["prechecks"] = pa.string() if prechecks_as_text else pa.list_(pa.string())
    return pa.table({c: pa.array(cols[c], types[c]) for c in COLUMNS})


def write_governance_log(log: GovernanceLog, out: Path, fmt: str) -> int:
    """JSON Lines (null keys left out, prechecks a JSON array), CSV (prechecks ';'-separated) or Parquet."""
    check_format(fmt)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with out.open("w", encoding="utf-8", newline="\n") as fh:
            for r in log.rows:
                fh.write(json.dumps({c: r[c] for c in COLUMNS if r.get(c) is not None}, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        pacsv.write_csv(_table(log.rows, prechecks_as_text=True), out)
    else:
        pq.write_table(_table(log.rows, prechecks_as_text=False), out)
    return len(log.rows)


def generate_governance_file(out: Path, fmt: str, *, days: int, runs_per_day: int, seed: int, end_date,
                             defect_rate: float, register) -> GovernanceLog:
    """`command-center generate --log-format governance`: the log of the runs that ``generate_events``
    makes with the same arguments (same run ids), written to ``out``, its manifest beside it as
    ``<out>.manifest.json``."""
    from orchestration.lib.generator.events import generate_events

    events = generate_events(days=days, runs_per_day=runs_per_day, seed=seed, end_date=end_date,
                             defect_rate=defect_rate, register=register, fmt=fmt)
    log = generate_governance_log(events, register=register, seed=seed)
    write_governance_log(log, out, fmt)
    Path(f"{out}.manifest.json").write_text(json.dumps(log.manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return log
