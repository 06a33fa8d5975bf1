"""The governance register (command_center.yml): validation and landing into governance.* tables.

Validation errors name the path and the rule, e.g.
``owners[1].sla.cycle_time_p90_hours: must be greater than 0``.
"""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.lib.alert_register import ALERTING_TABLES, Alerting, alerting_rows

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


class RegisterError(Exception):
    """The register file is missing, not YAML, or breaks a rule. ``errors`` lists 'path: rule' lines."""

    def __init__(self, source: str, errors: list[str]):
        self.source = source
        self.errors = errors
        super().__init__(f"invalid governance register {source}:\n" + "\n".join(f"  - {e}" for e in errors))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The cycle-time SLO is stated as a p90, so its objective is fixed: 90% of runs within it.
CYCLE_TIME_OBJECTIVE_PCT = 90.0


class SloObjectives(_Strict):
    """Objectives (share of good events, in percent) of the SLIs in fct_slo_weekly_snapshot."""

    first_touch_within_slo_pct: float | None = Field(default=None, gt=0, le=100)
    resolution_within_slo_pct: float | None = Field(default=None, gt=0, le=100)
    run_success_pct: float | None = Field(default=None, gt=0, le=100)


class DefaultSloObjectives(SloObjectives):
    first_touch_within_slo_pct: float = Field(default=95.0, gt=0, le=100)
    resolution_within_slo_pct: float = Field(default=90.0, gt=0, le=100)
    run_success_pct: float = Field(default=97.0, gt=0, le=100)


class Sla(_Strict):
    cycle_time_p90_hours: float = Field(gt=0)
    exception_first_touch_minutes: float = Field(gt=0)
    exception_resolution_hours: float = Field(gt=0)
    #: Per-workflow overrides of the register's slo_objectives.
    objectives: SloObjectives = Field(default_factory=SloObjectives)


class ExceptionBudget(_Strict):
    monthly_rate_pct: float = Field(gt=0, le=100)
    breach_action: str = Field(min_length=1)


class LogChecks(_Strict):
    """Per-workflow overrides of the telemetry section's log-completeness thresholds."""

    freshness_threshold_hours: float | None = Field(default=None, gt=0)
    volume_min_share_of_median_pct: float | None = Field(default=None, ge=0, le=100)


class Baseline(_Strict):
    """The window agg_improvement_vs_baseline measures improvement against: ``weeks`` whole ISO weeks
    starting on ``start_week`` (a Monday, UTC). Unset start_week: the workflow's first full ISO week
    of data (models/marts/improvement/_improvement__docs.md)."""

    start_week: date | None = None
    weeks: int = Field(default=6, ge=1, le=52)

    @field_validator("start_week")
    @classmethod
    def _monday(cls, v: date | None) -> date | None:
        if v is not None and v.isoweekday() != 1:
            raise ValueError(f"must be a Monday (the start of an ISO week), got {v} (a {v:%A})")
        return v


class WorkflowOwner(_Strict):
    workflow_id: str = Field(min_length=1, max_length=256)
    name: str | None = None
    service_owner: str = Field(min_length=1)
    owner_team: str | None = None
    delegate_group: str = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    sla: Sla
    exception_budget: ExceptionBudget
    log_checks: LogChecks = Field(default_factory=LogChecks)
    baseline: Baseline = Field(default_factory=Baseline)

    @field_validator("workflow_id")
    @classmethod
    def _workflow_id_chars(cls, v: str) -> str:
        if not WORKFLOW_ID.match(v):
            raise ValueError("must contain only letters, digits, '_', '-' and '.'")
        return v

    @field_validator("regions")
    @classmethod
    def _regions_unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("must not list a region twice")
        if any(not r.strip() for r in v):
            raise ValueError("must not contain blank regions")
        return v

    @property
    def team(self) -> str:
        """The owner team: explicit owner_team, else the local part of the service_owner address."""
        return self.owner_team or self.service_owner.split("@", 1)[0]


class RbacRole(_Strict):
    name: str = Field(min_length=1)
    permissions: list[str] = Field(default_factory=list)


class RbacAssignment(_Strict):
    user: str | None = None
    group: str | None = None
    role: str = Field(min_length=1)
    scope: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_principal(self) -> RbacAssignment:
        if (self.user is None) == (self.group is None):
            raise ValueError("must name exactly one of user or group")
        return self


class Rbac(_Strict):
    roles: list[RbacRole] = Field(default_factory=list)
    assignments: list[RbacAssignment] = Field(default_factory=list)
    #: group name -> its member identities (user e-mails, service names); every group an assignment
    #: names must have members here (models/intermediate/governance resolves actors through it).
    groups: dict[str, list[str]] = Field(default_factory=dict)


class HighRiskPlaybook(_Strict):
    """A playbook whose every run needs an approval (models/marts/governance_audit/fct_playbook_executions)."""

    name: str = Field(min_length=1)
    #: roles one of which the approver must hold, in a scope covering the run's workflow
    requires: list[str] = Field(min_length=1)
    #: prechecks the run must record as passed (all of them)
    prechecks: list[str] = Field(default_factory=list)
    #: the rollback plan the run must declare (unset: any non-empty rollback)
    rollback: str | None = None


class ApprovalTimeout(_Strict):
    """An approval request of ``workflow_id`` (at ``stage``; omitted: any stage) times out after this many hours."""

    workflow_id: str = Field(min_length=1)
    stage: str | None = Field(default=None, min_length=1)
    timeout_hours: float = Field(gt=0)


class Approvals(_Strict):
    high_risk_playbooks: list[HighRiskPlaybook] = Field(default_factory=list)
    #: names the governance log may run or approve besides the high-risk ones (no approval needed);
    #: a governance-log row naming any other playbook is quarantined as unknown_playbook
    low_risk_playbooks: list[str] = Field(default_factory=list)
    #: an AI-assisted action (confidence given) below this needs a reviewer_id
    ai_review_confidence_threshold: float = Field(default=0.8, ge=0, le=1)
    #: store governance-log prompts in clear (else only their salted sha256 and length); a real
    #: boolean (strict: "yes" or 1 is an error naming approvals.store_prompt_text)
    store_prompt_text: bool = Field(default=False, strict=True)
    #: the approval window (models/marts/stages/fct_approvals): a request not decided within it has timed
    #: out. The workflow x stage row of ``timeouts``, else the workflow's row without a stage, else this.
    timeout_hours: float = Field(default=24, gt=0)
    timeouts: list[ApprovalTimeout] = Field(default_factory=list)


def _approval_errors(rbac: Rbac, approvals: Approvals) -> list[str]:
    """Groups named by assignments without members; playbooks named twice or requiring an unknown role."""
    errors: list[str] = []
    for i, a in enumerate(rbac.assignments):
        if a.group is not None and not rbac.groups.get(a.group):
            errors.append(f"rbac.assignments[{i}].group: group {a.group!r} has no members "
                          f"(list them under rbac.groups.{a.group})")
    for group, members in rbac.groups.items():
        if any(not m.strip() for m in members):
            errors.append(f"rbac.groups.{group}: must not contain blank members")
    roles = {r.name for r in rbac.roles}
    seen: dict[str, int] = {}
    for i, p in enumerate(approvals.high_risk_playbooks):
        if p.name in seen:
            errors.append(f"approvals.high_risk_playbooks[{i}].name: duplicate of "
                          f"approvals.high_risk_playbooks[{seen[p.name]}] ({p.name!r})")
        seen.setdefault(p.name, i)
        for j, role in enumerate(p.requires):
            if role not in roles:
                errors.append(f"approvals.high_risk_playbooks[{i}].requires[{j}]: unknown role {role!r}")
    return errors


def _workflow_stage_errors(section: str, items: list, workflows: set[str]) -> list[str]:
    """Rows keyed by (workflow_id, stage) - approvals.timeouts, operations.stuck_thresholds: registered
    workflows only, each (workflow, stage) once."""
    errors: list[str] = []
    seen: dict[tuple[str, str | None], int] = {}
    for i, t in enumerate(items):
        path = f"{section}[{i}]"
        if t.workflow_id not in workflows:
            errors.append(f"{path}.workflow_id: unknown workflow {t.workflow_id!r} (not under owners)")
        key = (t.workflow_id, t.stage)
        if key in seen:
            errors.append(f"{path}: duplicate of {section}[{seen[key]}] ({t.workflow_id!r}, stage {t.stage!r})")
        seen.setdefault(key, i)
    return errors


def _low_risk_playbook_errors(approvals: Approvals) -> list[str]:
    """approvals.low_risk_playbooks: identifiers, each once, none also high-risk (which would need no approval)."""
    errors: list[str] = []
    high = {p.name for p in approvals.high_risk_playbooks}
    seen: dict[str, int] = {}
    for i, name in enumerate(approvals.low_risk_playbooks):
        where = f"approvals.low_risk_playbooks[{i}]"
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,256}", name):
            errors.append(f"{where}: {name!r} is not a playbook name (letters, digits, _ . : -)")
        elif name in seen:
            errors.append(f"{where}: duplicate of approvals.low_risk_playbooks[{seen[name]}] ({name!r})")
        elif name in high:
            errors.append(f"{where}: {name!r} is also in approvals.high_risk_playbooks (a playbook is one or the other)")
        seen.setdefault(name, i)
    return errors


def _rbac_role_errors(roles: list[RbacRole]) -> list[str]:
    """Roles named twice (identifiers fold case on DuckDB and Snowflake) and permissions the product does not
    know (a typo would silently grant nothing): orchestration/lib/rbac/policy.py KNOWN_PERMISSIONS."""
    from orchestration.lib.rbac.policy import KNOWN_PERMISSIONS

    errors: list[str] = []
    seen: dict[str, int] = {}
    for i, role in enumerate(roles):
        if role.name.lower() in seen:
            errors.append(f"rbac.roles[{i}].name: duplicate of rbac.roles[{seen[role.name.lower()]}] ({role.name!r})")
        seen.setdefault(role.name.lower(), i)
        for j, permission in enumerate(role.permissions):
            if permission not in KNOWN_PERMISSIONS:
                errors.append(f"rbac.roles[{i}].permissions[{j}]: unknown permission {permission!r} "
                              f"(known: {', '.join(KNOWN_PERMISSIONS)})")
    return errors


class Residency(_Strict):
    pii_masking: bool = True
    retention_days: int = Field(gt=0)
    eu_only_processing: bool = False
    #: the region's jurisdiction (EU, US, ...); unset: told by its name (orchestration/lib/residency.py)
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2,8}$")


class WarehouseLocation(_Strict):
    """Where the warehouse runs (docs/residency.md): its region and/or jurisdiction."""

    region: str | None = Field(default=None, min_length=1)
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2,8}$")


#: Contract columns a register may list as redacted fields: landing stores them hashed in
#: raw.workflow_events (docs/event-contract.md, Redaction). Every other contract field is an identifier,
#: time, type or measure the marts join or compute on, so the register refuses it.
REDACTABLE_CONTRACT_COLUMNS: tuple[str, ...] = ("actor", "owner")
#: The minimal log's own names of contract fields (case_id -> run_id, event_name -> stage, timestamp -> event_ts).
_MINIMAL_LOG_KEYS: tuple[str, ...] = ("case_id", "event_name", "timestamp")


def redactable_contract_columns(fields: list[str]) -> list[str]:
    """The contract columns among the register's redacted fields (compared case-insensitively)."""
    lowered = {f.lower() for f in fields}
    return [c for c in REDACTABLE_CONTRACT_COLUMNS if c in lowered]


class Redaction(_Strict):
    fields: list[str] = Field(default_factory=list)
    strategy: Literal["hash_salt_v2"] = "hash_salt_v2"
    #: What raw.quarantine keeps of a record that could not be parsed (so cannot be redacted field by
    #: field): a salted hash and a short prefix cut at the first redacted key name (default), only the
    #: hash, or the full text (only when the register says so explicitly).
    malformed_records: Literal["hash_and_prefix", "hash_only", "full_text"] = "hash_and_prefix"
    #: Refuse to land with the development salt (COMMAND_CENTER_REDACTION_SALT unset). Unset: required
    #: on the snowflake target, not on DuckDB (where landing warns instead).
    require_secret_salt: bool | None = None

    @field_validator("fields")
    @classmethod
    def _field_names(cls, v: list[str]) -> list[str]:
        from orchestration.lib.contract import TELEMETRY_FIELDS

        protected = {*TELEMETRY_FIELDS, *_MINIMAL_LOG_KEYS} - set(REDACTABLE_CONTRACT_COLUMNS)
        for name in v:
            if not IDENTIFIER.match(name):
                raise ValueError(f"field name {name!r} must be an identifier (letters, digits, '_')")
            if name.lower() in protected:
                raise ValueError(
                    f"field {name!r} cannot be redacted: it is a contract field the warehouse keys, orders or "
                    "computes on (of the contract fields only " + " and ".join(REDACTABLE_CONTRACT_COLUMNS)
                    + " can be redacted; they are stored hashed)"
                )
        if len({n.lower() for n in v}) != len(v):
            raise ValueError("must not list a field twice (names are compared case-insensitively)")
        return v

    def requires_secret_salt(self, dbt_target: str) -> bool:
        if self.require_secret_salt is not None:
            return self.require_secret_salt
        return dbt_target.strip().lower() == "snowflake"


class DataControls(_Strict):
    residency: dict[str, Residency] = Field(default_factory=dict)
    redaction: Redaction = Field(default_factory=Redaction)
    #: unset: not known to be in the EU, so eu_only_processing regions are quarantined (docs/residency.md)
    warehouse: WarehouseLocation | None = None

    @field_validator("warehouse")
    @classmethod
    def _warehouse_location(cls, v: WarehouseLocation | None, info) -> WarehouseLocation | None:
        from orchestration.lib.residency import warehouse_location_error

        error = warehouse_location_error(v, info.data.get("residency") or {})
        if error:
            raise ValueError(error)
        return v


class Telemetry(_Strict):
    sink: str | None = None
    event_schema: list[str] = Field(default_factory=list)
    retention_days: int = Field(default=400, gt=0)
    #: Landing quarantines events older than this date (reason ``expired``), on top of the regions'
    #: retention (data_controls.residency, else retention_days): one row dated year 1 must not
    #: stretch every daily spine back two thousand years.
    earliest_event_date: date | None = None
    #: Log-completeness guards (per workflow overridable under owners[].log_checks):
    #: the newest event of an active workflow must be younger than this many hours...
    freshness_threshold_hours: float = Field(default=26.0, gt=0)
    #: ...and its daily event count must not fall below this share of its trailing 7-day median.
    volume_min_share_of_median_pct: float = Field(default=50.0, ge=0, le=100)



class ExceptionClass(_Strict):
    code: str = Field(min_length=1)
    route_to: str = Field(min_length=1)
    sev: int = Field(ge=1, le=5)
    snooze_policy_minutes: float = Field(default=0, ge=0)


class Exceptions(_Strict):
    classes: list[ExceptionClass] = Field(min_length=1)


class AgingAlerts(_Strict):
    thresholds: dict[str, float]
    notify: list[str] = Field(default_factory=list)

    @field_validator("thresholds")
    @classmethod
    def _threshold_keys(cls, v: dict[str, float]) -> dict[str, float]:
        for key, minutes in v.items():
            if not re.fullmatch(r"sev[1-5]_minutes", key):
                raise ValueError(f"key {key!r} must look like sevN_minutes with N in 1..5")
            if minutes is None or minutes <= 0:
                raise ValueError(f"{key} must be greater than 0")
        return v

    def minutes_by_severity(self) -> dict[int, float]:
        return {int(k[3]): float(m) for k, m in self.thresholds.items()}


class CostModel(_Strict):
    """Prices human handling time: an hourly labor rate per owner team, else the default rate."""

    currency: str = Field(default="USD", min_length=3, max_length=3)
    default_labor_rate_per_hour: float = Field(gt=0)
    labor_rates_per_hour: dict[str, float] = Field(default_factory=dict)

    @field_validator("labor_rates_per_hour")
    @classmethod
    def _positive_rates(cls, v: dict[str, float]) -> dict[str, float]:
        for team, rate in v.items():
            if rate is None or rate <= 0:
                raise ValueError(f"rate of team {team!r} must be greater than 0")
        return v

    def rate_for(self, team: str) -> float:
        return float(self.labor_rates_per_hour.get(team, self.default_labor_rate_per_hour))


class ReferencePath(_Strict):
    """A workflow's reference path for conformance (models/marts/process_mining/_process_mining__docs.md,
    pm_conformance): allowed start and end activities, allowed directly-follows transitions
    ("a -> b"), and required stages in order. A rule left empty is not checked; at least one is set."""

    workflow_id: str = Field(min_length=1, max_length=256)
    start_activities: list[str] = Field(default_factory=list)
    end_activities: list[str] = Field(default_factory=list)
    transitions: list[str] = Field(default_factory=list)
    required_stages: list[str] = Field(default_factory=list)

    @field_validator("transitions")
    @classmethod
    def _transition_pairs(cls, v: list[str]) -> list[str]:
        for i, t in enumerate(v):
            parts = [p.strip() for p in t.split("->")]
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"transitions[{i}] {t!r} must look like 'activity_a -> activity_b'")
        return v

    @field_validator("start_activities", "end_activities", "required_stages")
    @classmethod
    def _unique_names(cls, v: list[str]) -> list[str]:
        if any(not a.strip() for a in v):
            raise ValueError("activity names must not be empty")
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate activity in {v}")
        return v

    @model_validator(mode="after")
    def _some_rule(self) -> ReferencePath:
        if not (self.start_activities or self.end_activities or self.transitions or self.required_stages):
            raise ValueError(
                f"reference path of {self.workflow_id!r} sets no rule: give start_activities, "
                "end_activities, transitions and/or required_stages"
            )
        return self

    def transition_pairs(self) -> list[tuple[str, str]]:
        return [tuple(p.strip() for p in t.split("->")) for t in self.transitions]  # type: ignore[misc]


class ProcessMining(_Strict):
    reference_paths: list[ReferencePath] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_path_per_workflow(self) -> ProcessMining:
        seen: set[str] = set()
        for i, path in enumerate(self.reference_paths):
            if path.workflow_id in seen:
                raise ValueError(f"reference_paths[{i}].workflow_id: duplicate reference path for {path.workflow_id!r}")
            seen.add(path.workflow_id)
        return self


class StuckThreshold(_Strict):
    """A run of ``workflow_id`` is stuck once in the same state longer than this; ``stage`` omitted: any stage."""

    workflow_id: str = Field(min_length=1)
    stage: str | None = Field(default=None, min_length=1)
    threshold_minutes: float = Field(gt=0)


class Operations(_Strict):
    """What is happening now (models/marts/operations, docs/operations.md): when an in-flight run is stuck.

    Without a declared threshold a workflow's runs are stuck after
    ``default_stuck_share_of_cycle_slo`` x its cycle-time SLO (sla.cycle_time_p90_hours) in one state.
    """

    default_stuck_share_of_cycle_slo: float = Field(default=0.5, gt=0)
    stuck_thresholds: list[StuckThreshold] = Field(default_factory=list)

    def stuck_rows(self, owners: list[WorkflowOwner]) -> list[tuple]:
        """(workflow_id, stage, threshold_minutes, is_default): declared rows, plus a workflow-wide default
        (stage null) for every workflow that declares none."""
        rows = [(t.workflow_id, t.stage, t.threshold_minutes, False) for t in self.stuck_thresholds]
        declared = {t.workflow_id for t in self.stuck_thresholds if t.stage is None}
        rows += [
            (o.workflow_id, None, self.default_stuck_share_of_cycle_slo * o.sla.cycle_time_p90_hours * 60.0, True)
            for o in owners if o.workflow_id not in declared
        ]
        return rows


class Register(_Strict):
    # The register tolerates sections this version does not use (integrations).
    model_config = ConfigDict(extra="allow", frozen=True)

    version: str
    owners: list[WorkflowOwner] = Field(min_length=1)
    rbac: Rbac = Field(default_factory=Rbac)
    data_controls: DataControls = Field(default_factory=DataControls)
    telemetry: Telemetry = Field(default_factory=Telemetry)
    exceptions: Exceptions
    aging_alerts: AgingAlerts
    slo_objectives: DefaultSloObjectives = Field(default_factory=DefaultSloObjectives)
    cost_model: CostModel
    operations: Operations = Field(default_factory=Operations)
    process_mining: ProcessMining = Field(default_factory=ProcessMining)
    alerting: Alerting = Field(default_factory=Alerting)
    approvals: Approvals = Field(default_factory=Approvals)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> str:
        return str(v)

    @model_validator(mode="after")
    def _cross_rules(self) -> Register:  # noqa: C901 -- one flat list of independent rules; split per section next
        errors: list[str] = []
        seen: dict[str, int] = {}
        for i, owner in enumerate(self.owners):
            if owner.workflow_id in seen:
                errors.append(
                    f"owners[{i}].workflow_id: duplicate of owners[{seen[owner.workflow_id]}] ({owner.workflow_id!r})"
                )
            seen.setdefault(owner.workflow_id, i)
            if self.data_controls.residency:
                for j, region in enumerate(owner.regions):
                    if region not in self.data_controls.residency:
                        errors.append(
                            f"owners[{i}].regions[{j}]: region {region!r} has no data_controls.residency entry"
                        )
        codes: dict[str, int] = {}
        severities = self.aging_alerts.minutes_by_severity()
        for i, cls_ in enumerate(self.exceptions.classes):
            if cls_.code in codes:
                errors.append(f"exceptions.classes[{i}].code: duplicate of exceptions.classes[{codes[cls_.code]}] ({cls_.code!r})")
            codes.setdefault(cls_.code, i)
            if cls_.sev not in severities:
                errors.append(
                    f"exceptions.classes[{i}].sev: severity {cls_.sev} has no aging_alerts.thresholds.sev{cls_.sev}_minutes"
                )
        teams = {o.team for o in self.owners}
        for team in self.cost_model.labor_rates_per_hour:
            if team not in teams:
                errors.append(
                    f"cost_model.labor_rates_per_hour.{team}: unknown owner team {team!r} "
                    f"(owner teams: {', '.join(sorted(teams))})"
                )
        role_names = {r.name for r in self.rbac.roles}
        errors += _rbac_role_errors(self.rbac.roles)
        for i, a in enumerate(self.rbac.assignments):
            if a.role not in role_names:
                errors.append(f"rbac.assignments[{i}].role: unknown role {a.role!r}")
            for j, scope in enumerate(a.scope):
                if scope != "*" and scope not in seen:
                    errors.append(f"rbac.assignments[{i}].scope[{j}]: unknown workflow {scope!r}")
        if errors:
            raise ValueError("\n".join(errors))
        return self

    @model_validator(mode="after")
    def _approval_rules(self) -> Register:
        errors = (_approval_errors(self.rbac, self.approvals) + _low_risk_playbook_errors(self.approvals)
                  + _workflow_stage_errors("approvals.timeouts", self.approvals.timeouts, set(self.workflow_ids)))
        if errors:
            raise ValueError("\n".join(errors))
        return self

    @model_validator(mode="after")
    def _operations_rules(self) -> Register:
        errors = _workflow_stage_errors("operations.stuck_thresholds", self.operations.stuck_thresholds,
                                        {o.workflow_id for o in self.owners})
        if errors:
            raise ValueError("\n".join(errors))
        return self

    @model_validator(mode="after")
    def _alerting_rules(self) -> Register:
        errors = self.alerting.cross_errors(
            set(self.workflow_ids), {c.code for c in self.exceptions.classes},
            {p.workflow_id for p in self.process_mining.reference_paths},
        )
        if errors:
            raise ValueError("\n".join(errors))
        return self

    def objective_pct(self, owner: WorkflowOwner, name: str) -> float:
        """The workflow's objective for an SLI: its own sla.objectives entry, else the register default."""
        value = getattr(owner.sla.objectives, name)
        return float(value if value is not None else getattr(self.slo_objectives, name))

    def log_check_threshold(self, owner: WorkflowOwner, name: str) -> float:
        """The workflow's log-completeness threshold: its log_checks entry, else the telemetry default."""
        value = getattr(owner.log_checks, name)
        return float(value if value is not None else getattr(self.telemetry, name))

    def workflow(self, workflow_id: str) -> WorkflowOwner | None:
        return next((o for o in self.owners if o.workflow_id == workflow_id), None)

    @property
    def workflow_ids(self) -> list[str]:
        return [o.workflow_id for o in self.owners]


_PYDANTIC_PHRASES = (
    ("Input should be ", "must be "),
    ("Field required", "is required"),
    ("Extra inputs are not permitted", "is not a known field"),
    ("Value error, ", ""),
    ("List should have at least 1 item after validation, not 0", "must not be empty"),
)


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _format_errors(exc: ValidationError) -> list[str]:
    lines: list[str] = []
    for err in exc.errors():
        msg = err["msg"]
        for old, new in _PYDANTIC_PHRASES:
            msg = msg.replace(old, new)
        loc = _format_loc(tuple(err["loc"]))
        if not loc and "\n" in msg or msg.startswith(("owners[", "exceptions.", "rbac.", "cost_model.", "operations.", "alerting.", "approvals.")):
            # cross-field rules already carry their own paths, one per line
            lines.extend(line for line in msg.splitlines() if line)
        else:
            lines.append(f"{loc or '<root>'}: {msg}")
    return lines


def parse_register(data: Any, source: str = "<register>") -> Register:
    if not isinstance(data, dict):
        raise RegisterError(source, ["<root>: must be a mapping (the register is a YAML object)"])
    try:
        return Register.model_validate(data)
    except ValidationError as exc:
        raise RegisterError(source, _format_errors(exc)) from None


def load_register(path: Path | str) -> Register:
    """Read and validate the register. Raises RegisterError with readable 'path: rule' lines."""
    path = Path(path)
    if not path.exists():
        raise RegisterError(str(path), [f"file not found (set COMMAND_CENTER_REGISTER or create {path.name})"])
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RegisterError(str(path), [f"<yaml>: {where}{problem}"]) from None
    try:
        return parse_register(data, str(path))
    except RegisterError as exc:
        raise RegisterError(exc.source, _with_lines(text, exc.errors)) from None


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _with_lines(text: str, errors: list[str]) -> list[str]:
    """Each 'path: rule' error with the YAML line of its path (the deepest part of it the file has)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return errors
    out = []
    for error in errors:
        path = error.split(": ", 1)[0]
        node = root if root is not None and not path.startswith("<") else None
        for key, index in _PATH_PART.findall(path) if node is not None else ():
            if index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
                node = node.value[int(index)]
            elif key and isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), node)
            else:
                break
        out.append(f"{error} (line {node.start_mark.line + 1})" if node is not None else error)
    return out


def register_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------
# Landing the register into the warehouse (governance.* tables the dbt models join)
# --------------------------------------------------------------------------------------------------

GOVERNANCE_TABLES: dict[str, str] = {
    "workflows": """workflow_id varchar not null primary key, workflow_name varchar, service_owner varchar not null,
        owner_team varchar not null, delegate_group varchar not null""",
    "workflow_regions": "workflow_id varchar not null, region varchar not null",
    "slo_targets": """workflow_id varchar not null primary key, cycle_time_p90_hours double not null,
        exception_first_touch_minutes double not null, exception_resolution_hours double not null,
        exception_budget_monthly_rate_pct double not null, breach_action varchar not null,
        cycle_time_objective_pct double not null, first_touch_objective_pct double not null,
        resolution_objective_pct double not null, run_success_objective_pct double not null,
        freshness_threshold_hours double not null, volume_min_share_of_median_pct double not null""",
    "improvement_baselines": """workflow_id varchar not null primary key, baseline_start_week date,
        baseline_weeks integer not null""",
    "labor_rates": """owner_team varchar not null primary key, hourly_rate double not null, currency varchar not null,
        is_default_rate boolean not null""",
    "cost_model": "currency varchar not null, default_labor_rate_per_hour double not null",
    "owners": """owner varchar not null primary key, owner_team varchar, is_service_owner boolean not null,
        is_route_target boolean not null, workflows_owned integer not null""",
    "exception_classes": """exception_class varchar not null primary key, route_to varchar not null,
        severity integer not null, snooze_policy_minutes double not null""",
    "aging_alert_thresholds": "severity integer not null primary key, threshold_minutes double not null",
    "region_controls": """region varchar not null primary key, pii_masking boolean not null,
        retention_days integer not null, eu_only_processing boolean not null""",
    "redaction_fields": "field varchar not null primary key, strategy varchar not null",
    "rbac_role_permissions": "role varchar not null, permission varchar not null",
    "rbac_assignments": "principal_type varchar not null, principal varchar not null, role varchar not null, scope varchar not null",
    "rbac_group_members": "group_name varchar not null, member varchar not null",
    "approval_playbooks": "playbook varchar not null primary key, rollback varchar, precheck_count integer not null",
    "approval_playbook_requirements": "playbook varchar not null, requirement varchar not null, name varchar not null",
    "approval_settings": "ai_review_confidence_threshold double not null, default_timeout_hours double not null",
    "approval_timeouts": "workflow_id varchar not null, stage varchar, timeout_hours double not null",
    "reference_paths": """workflow_id varchar not null primary key, checks_start boolean not null,
        checks_end boolean not null, checks_transitions boolean not null, checks_required_stages boolean not null""",
    "reference_path_rules": """workflow_id varchar not null, rule varchar not null, activity varchar not null,
        next_activity varchar, position integer""",
    "stuck_thresholds": "workflow_id varchar not null, stage varchar, threshold_minutes double not null, is_default boolean not null",
    **ALERTING_TABLES,
    "register_versions": "register_sha256 varchar not null, version varchar not null, source_path varchar not null, loaded_at timestamp not null",
}


def register_rows(register: Register) -> dict[str, list[tuple]]:
    """The register flattened into rows, one list per governance table (pure; unit-tested)."""
    owners: dict[str, dict[str, Any]] = {}
    for o in register.owners:
        entry = owners.setdefault(o.service_owner, {"team": o.team, "svc": True, "route": False, "n": 0})
        entry["svc"] = True
        entry["n"] += 1
    for c in register.exceptions.classes:
        entry = owners.setdefault(c.route_to, {"team": None, "svc": False, "route": True, "n": 0})
        entry["route"] = True
    return {
        "workflows": [(o.workflow_id, o.name, o.service_owner, o.team, o.delegate_group) for o in register.owners],
        "workflow_regions": [(o.workflow_id, r) for o in register.owners for r in o.regions],
        "slo_targets": [
            (
                o.workflow_id,
                o.sla.cycle_time_p90_hours,
                o.sla.exception_first_touch_minutes,
                o.sla.exception_resolution_hours,
                o.exception_budget.monthly_rate_pct,
                o.exception_budget.breach_action,
                CYCLE_TIME_OBJECTIVE_PCT,
                register.objective_pct(o, "first_touch_within_slo_pct"),
                register.objective_pct(o, "resolution_within_slo_pct"),
                register.objective_pct(o, "run_success_pct"),
                register.log_check_threshold(o, "freshness_threshold_hours"),
                register.log_check_threshold(o, "volume_min_share_of_median_pct"),
            )
            for o in register.owners
        ],
        "improvement_baselines": [(o.workflow_id, o.baseline.start_week, o.baseline.weeks) for o in register.owners],
        "labor_rates": [
            (team, register.cost_model.rate_for(team), register.cost_model.currency,
             team not in register.cost_model.labor_rates_per_hour)
            for team in sorted({o.team for o in register.owners})
        ],
        "cost_model": [(register.cost_model.currency, register.cost_model.default_labor_rate_per_hour)],
        "owners": [(k, v["team"], v["svc"], v["route"], v["n"]) for k, v in sorted(owners.items())],
        "exception_classes": [
            (c.code, c.route_to, c.sev, c.snooze_policy_minutes) for c in register.exceptions.classes
        ],
        "aging_alert_thresholds": sorted(register.aging_alerts.minutes_by_severity().items()),
        "region_controls": [
            (region, r.pii_masking, r.retention_days, r.eu_only_processing)
            for region, r in sorted(register.data_controls.residency.items())
        ],
        "redaction_fields": [(f, register.data_controls.redaction.strategy) for f in register.data_controls.redaction.fields],
        **reference_path_rows(register),
        **alerting_rows(register.alerting),
        "rbac_role_permissions": [(r.name, p) for r in register.rbac.roles for p in r.permissions],
        "stuck_thresholds": register.operations.stuck_rows(register.owners),
        "rbac_assignments": [
            ("user" if a.user else "group", a.user or a.group, a.role, s) for a in register.rbac.assignments for s in a.scope
        ],
        **approval_rows(register),
    }


def approval_rows(register: Register) -> dict[str, list[tuple]]:
    """rbac.groups and the approvals section as governance.rbac_group_members / approval_* rows."""
    playbooks = register.approvals.high_risk_playbooks
    return {
        "rbac_group_members": [(g, m) for g, members in register.rbac.groups.items() for m in dict.fromkeys(members)],
        "approval_playbooks": [(p.name, p.rollback, len(set(p.prechecks))) for p in playbooks],
        "approval_playbook_requirements": [
            *((p.name, "role", r) for p in playbooks for r in dict.fromkeys(p.requires)),
            *((p.name, "precheck", c) for p in playbooks for c in dict.fromkeys(p.prechecks)),
        ],
        "approval_settings": [(register.approvals.ai_review_confidence_threshold, register.approvals.timeout_hours)],
        "approval_timeouts": [(t.workflow_id, t.stage, t.timeout_hours) for t in register.approvals.timeouts],
    }


def reference_path_rows(register: Register) -> dict[str, list[tuple]]:
    """process_mining.reference_paths as governance.reference_paths / reference_path_rules rows."""
    paths = register.process_mining.reference_paths
    rules: list[tuple] = []
    for p in paths:
        rules += [(p.workflow_id, "start", a, None, None) for a in p.start_activities]
        rules += [(p.workflow_id, "end", a, None, None) for a in p.end_activities]
        rules += [(p.workflow_id, "transition", a, b, None) for a, b in dict.fromkeys(p.transition_pairs())]
        rules += [(p.workflow_id, "required_stage", a, None, i + 1) for i, a in enumerate(p.required_stages)]
    return {
        "reference_paths": [
            (p.workflow_id, bool(p.start_activities), bool(p.end_activities), bool(p.transitions),
             bool(p.required_stages))
            for p in paths
        ],
        "reference_path_rules": rules,
    }


def land_register(con, register: Register, *, source_path: str, sha256: str) -> dict[str, int]:
    """Replace the governance.* tables with the register's contents in one transaction.

    ``con`` is an open duckdb connection. Returns row counts per table.
    """
    rows = register_rows(register)
    now = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists governance")
        for table, columns in GOVERNANCE_TABLES.items():
            if table == "register_versions":
                con.execute(f"create table if not exists governance.{table} ({columns})")
                con.execute(
                    "insert into governance.register_versions values (?, ?, ?, ?)",
                    [sha256, register.version, source_path, now],
                )
                continue
            con.execute(f"create or replace table governance.{table} ({columns})")
            data = rows[table]
            if data:
                placeholders = ", ".join("?" for _ in data[0])
                con.executemany(f"insert into governance.{table} values ({placeholders})", data)
            counts[table] = len(data)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts
