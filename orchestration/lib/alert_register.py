"""The register's ``alerting`` section (command_center.yml): exception rules, the SLO burn-rate window,
business hours, the escalation ladder by severity, runbooks and silences (snooze / acknowledgement).

Validated on load with errors naming the path (``alerting.exception_rules[2].threshold_minutes: ...``),
landed as governance.alert_* tables (``ALERTING_TABLES`` / ``alerting_rows``), read by the dbt models of
models/intermediate/alerting and models/marts/alerting (definitions: models/marts/alerting/_alerting__docs.md,
docs/alerting.md).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TRANSITION = re.compile(r"^\s*(\S.*?)\s*->\s*(\S.*?)\s*$")
SEVERITIES = ("page", "ticket", "info")
ALERT_SOURCES = ("exception_rule", "slo_burn", "exception_aging", "stuck_run")
#: Event columns a completeness rule may require (the contract's optional fields).
REQUIRED_FIELDS = ("stage", "status", "owner", "actor", "duration_ms", "cost_cents", "confidence", "error_code")

#: What each rule kind needs (besides name, workflow_id, kind, severity) and what it may not carry.
KIND_REQUIRED: dict[str, tuple[str, ...]] = {
    "latency": ("threshold_minutes",),
    "quality": ("max_error_rate_pct",),
    "completeness": (),
    "conformance": (),
    "volume": ("factor",),
}
KIND_ALLOWED: dict[str, set[str]] = {
    "latency": {"stage", "threshold_minutes", "business_hours_only"},
    "quality": {"window_hours", "max_error_rate_pct", "min_runs"},
    "completeness": {"window_hours", "required_stage", "required_field"},
    "conformance": {"window_hours", "use_reference_path", "forbidden_transitions"},
    "volume": {"window_hours", "stage", "event_type", "factor", "baseline_windows", "min_count"},
}
KIND_FIELDS = set().union(*KIND_ALLOWED.values())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExceptionRule(_Strict):
    """One exception rule (seed 001: state, threshold, window, outcome). Kind-specific fields: KIND_ALLOWED."""

    name: str = Field(min_length=1, max_length=64)
    workflow_id: str = Field(min_length=1)
    kind: Literal["latency", "quality", "completeness", "conformance", "volume"]
    severity: Literal["page", "ticket", "info"] = "ticket"
    exception_class: str | None = Field(default=None, min_length=1)
    route_to: str | None = Field(default=None, min_length=1)
    runbook_url: str | None = Field(default=None, min_length=1)
    description: str | None = None
    # latency
    stage: str | None = Field(default=None, min_length=1)
    threshold_minutes: float | None = Field(default=None, gt=0)
    business_hours_only: bool | None = None
    # windowed kinds: tumbling windows of window_hours, aligned to 1970-01-01 00:00 UTC
    window_hours: float | None = Field(default=None, gt=0, le=24 * 31)
    # quality
    max_error_rate_pct: float | None = Field(default=None, ge=0, lt=100)
    min_runs: int | None = Field(default=None, ge=1)
    # completeness
    required_stage: str | None = Field(default=None, min_length=1)
    required_field: str | None = None
    # conformance
    use_reference_path: bool | None = None
    forbidden_transitions: list[str] | None = None
    # volume
    event_type: str | None = Field(default=None, min_length=1)
    factor: float | None = Field(default=None, gt=0)
    baseline_windows: int | None = Field(default=None, ge=1, le=365)
    min_count: int | None = Field(default=None, ge=1)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not RULE_NAME.match(v):
            raise ValueError("must be lower case letters, digits and '_', starting with a letter")
        return v

    @field_validator("required_field")
    @classmethod
    def _field(cls, v: str | None) -> str | None:
        if v is not None and v not in REQUIRED_FIELDS:
            raise ValueError(f"must be one of {', '.join(REQUIRED_FIELDS)}, got {v!r}")
        return v

    @field_validator("forbidden_transitions")
    @classmethod
    def _transitions(cls, v: list[str] | None) -> list[str] | None:
        for i, t in enumerate(v or []):
            if not TRANSITION.match(t):
                raise ValueError(f"[{i}] must look like 'a -> b', got {t!r}")
        return v

    def kind_errors(self, path: str) -> list[str]:
        errors = [
            f"{path}.{f}: is required for a {self.kind} rule"
            for f in KIND_REQUIRED[self.kind] if getattr(self, f) is None
        ]
        errors += [
            f"{path}.{f}: does not apply to a {self.kind} rule (allowed: {', '.join(sorted(KIND_ALLOWED[self.kind]))})"
            for f in sorted(KIND_FIELDS - KIND_ALLOWED[self.kind]) if getattr(self, f) is not None
        ]
        if self.kind == "completeness" and (self.required_stage is None) == (self.required_field is None):
            errors.append(f"{path}: a completeness rule names exactly one of required_stage, required_field")
        if self.kind == "conformance" and not self.use_reference_path and not self.forbidden_transitions:
            errors.append(f"{path}: a conformance rule sets use_reference_path: true or lists forbidden_transitions")
        return errors

    def transition_pairs(self) -> list[tuple[str, str]]:
        return [TRANSITION.match(t).groups() for t in self.forbidden_transitions or []]  # type: ignore[union-attr]


class BusinessHours(_Strict):
    """Business hours for latency rules with business_hours_only: ISO weekdays (1 = Monday) and local hours."""

    timezone: str = "UTC"
    days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1)
    start_hour: int = Field(default=9, ge=0, le=23)
    end_hour: int = Field(default=17, ge=1, le=24)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in v) or len(set(v)) != len(v):
            raise ValueError("must list distinct ISO weekdays 1 (Monday) .. 7 (Sunday)")
        return v


class EscalationStep(_Strict):
    after_minutes: float = Field(ge=0)
    notify: str = Field(min_length=1)


class SeverityPolicy(_Strict):
    """Per alert severity: the response target and the escalation ladder (steps in after_minutes order)."""

    response_target_minutes: float = Field(gt=0)
    escalation: list[EscalationStep] = Field(min_length=1)

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, v: list[EscalationStep]) -> list[EscalationStep]:
        if [s.after_minutes for s in v] != sorted(s.after_minutes for s in v):
            raise ValueError("steps must be in increasing after_minutes order")
        return v


def _default_severities() -> dict[str, SeverityPolicy]:
    return {
        "page": SeverityPolicy(response_target_minutes=15, escalation=[
            EscalationStep(after_minutes=0, notify="owner"),
            EscalationStep(after_minutes=15, notify="delegate_group"),
            EscalationStep(after_minutes=60, notify="service_owner")]),
        "ticket": SeverityPolicy(response_target_minutes=480, escalation=[
            EscalationStep(after_minutes=0, notify="owner"),
            EscalationStep(after_minutes=1440, notify="delegate_group")]),
        "info": SeverityPolicy(response_target_minutes=2880, escalation=[EscalationStep(after_minutes=0, notify="owner")]),
    }


class Runbooks(_Strict):
    """Runbook URLs: per exception class (aging alerts, rules with that class) and per alert source (fallback)."""

    exception_classes: dict[str, str] = Field(default_factory=dict)
    alert_sources: dict[str, str] = Field(default_factory=dict)

    @field_validator("alert_sources")
    @classmethod
    def _sources(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if key not in ALERT_SOURCES:
                raise ValueError(f"key {key!r} must be one of {', '.join(ALERT_SOURCES)}")
        return v


class Silence(_Strict):
    """A snooze (until a time) or an acknowledgement (until the episode resolves, or until a time)."""

    kind: Literal["snooze", "ack"]
    alert_source: Literal["exception_rule", "slo_burn", "exception_aging", "stuck_run"]
    workflow_id: str = Field(min_length=1)
    alert_name: str | None = Field(default=None, min_length=1)
    subject: str | None = Field(default=None, min_length=1)
    starts_at: datetime | None = None
    until: datetime | None = None
    by: str = Field(min_length=1)
    reason: str | None = None


class Alerting(_Strict):
    slo_window_days: Literal[28, 30] = 28
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    severities: dict[str, SeverityPolicy] = Field(default_factory=_default_severities)
    runbooks: Runbooks = Field(default_factory=Runbooks)
    exception_rules: list[ExceptionRule] = Field(default_factory=list)
    silences: list[Silence] = Field(default_factory=list)

    @field_validator("severities")
    @classmethod
    def _severities(cls, v: dict[str, SeverityPolicy]) -> dict[str, SeverityPolicy]:
        missing = [s for s in SEVERITIES if s not in v]
        extra = [s for s in v if s not in SEVERITIES]
        if missing or extra:
            raise ValueError(f"must have exactly the keys page, ticket, info (missing {missing}, unknown {extra})")
        return v

    def cross_errors(self, workflow_ids: set[str], class_codes: set[str], path_workflows: set[str]) -> list[str]:
        """Rules against the rest of the register: known workflows and classes, unique names, reference paths."""
        errors: list[str] = []
        seen: dict[str, int] = {}
        for i, rule in enumerate(self.exception_rules):
            path = f"alerting.exception_rules[{i}]"
            errors += rule.kind_errors(path)
            if rule.name in seen:
                errors.append(f"{path}.name: duplicate of alerting.exception_rules[{seen[rule.name]}] ({rule.name!r})")
            seen.setdefault(rule.name, i)
            if rule.workflow_id not in workflow_ids | path_workflows:
                errors.append(f"{path}.workflow_id: unknown workflow {rule.workflow_id!r} (not under owners or "
                              "process_mining.reference_paths)")
            if rule.exception_class is not None and rule.exception_class not in class_codes:
                errors.append(f"{path}.exception_class: unknown exception class {rule.exception_class!r}")
            if rule.use_reference_path and rule.workflow_id not in path_workflows:
                errors.append(f"{path}.use_reference_path: {rule.workflow_id!r} has no process_mining.reference_paths entry")
        for code in self.runbooks.exception_classes:
            if code not in class_codes:
                errors.append(f"alerting.runbooks.exception_classes.{code}: unknown exception class {code!r}")
        for i, s in enumerate(self.silences):
            path = f"alerting.silences[{i}]"
            if s.kind == "snooze" and s.until is None:
                errors.append(f"{path}.until: a snooze needs an end time")
            if s.starts_at and s.until and s.until <= s.starts_at:
                errors.append(f"{path}.until: must be after starts_at")
            if s.alert_source == "exception_rule" and s.alert_name is not None and s.alert_name not in seen:
                errors.append(f"{path}.alert_name: unknown exception rule {s.alert_name!r}")
        return errors


ALERTING_TABLES: dict[str, str] = {
    "alert_settings": """slo_window_days integer not null, business_timezone varchar not null,
        business_days varchar not null, business_start_hour integer not null, business_end_hour integer not null""",
    "alert_severities": """severity varchar not null primary key, severity_order integer not null,
        response_target_minutes double not null, escalation_path varchar not null""",
    "alert_runbooks": "scope varchar not null, scope_key varchar not null, runbook_url varchar not null",
    "alert_rules": """rule_name varchar not null primary key, workflow_id varchar not null, kind varchar not null,
        severity varchar not null, exception_class varchar, route_to varchar, runbook_url varchar, description varchar,
        stage varchar, threshold_minutes double, business_hours_only boolean not null, window_hours double not null,
        max_error_rate_pct double, min_runs integer not null, required_stage varchar, required_field varchar,
        use_reference_path boolean not null, event_type varchar, factor double, baseline_windows integer not null,
        min_count integer not null""",
    "alert_rule_transitions": "rule_name varchar not null, activity varchar not null, next_activity varchar not null",
    "alert_silences": """silence_id integer not null primary key, kind varchar not null, alert_source varchar not null,
        workflow_id varchar not null, alert_name varchar, subject varchar, starts_at timestamp, until timestamp,
        silenced_by varchar not null, reason varchar""",
}


def _naive_utc(ts: datetime | None) -> datetime | None:
    if ts is None or ts.tzinfo is None:
        return ts
    from datetime import UTC

    return ts.astimezone(UTC).replace(tzinfo=None)


def alerting_rows(alerting: Alerting) -> dict[str, list[tuple[Any, ...]]]:
    """The alerting section flattened into governance.alert_* rows (pure)."""
    bh = alerting.business_hours
    rules = [
        (r.name, r.workflow_id, r.kind, r.severity, r.exception_class, r.route_to, r.runbook_url, r.description,
         r.stage, r.threshold_minutes, bool(r.business_hours_only), float(r.window_hours or 24.0),
         r.max_error_rate_pct, r.min_runs or 1, r.required_stage, r.required_field, bool(r.use_reference_path),
         r.event_type, r.factor, r.baseline_windows or 7, r.min_count or 1)
        for r in alerting.exception_rules
    ]
    return {
        "alert_settings": [(alerting.slo_window_days, bh.timezone, "".join(str(d) for d in sorted(bh.days)),
                            bh.start_hour, bh.end_hour)],
        "alert_severities": [
            (sev, SEVERITIES.index(sev) + 1, p.response_target_minutes,
             json.dumps([s.model_dump() for s in p.escalation], separators=(",", ":")))
            for sev, p in alerting.severities.items()
        ],
        "alert_runbooks": [("exception_class", k, v) for k, v in sorted(alerting.runbooks.exception_classes.items())]
        + [("alert_source", k, v) for k, v in sorted(alerting.runbooks.alert_sources.items())],
        "alert_rules": rules,
        "alert_rule_transitions": [
            (r.name, a, b) for r in alerting.exception_rules for a, b in dict.fromkeys(r.transition_pairs())
        ],
        "alert_silences": [
            (i + 1, s.kind, s.alert_source, s.workflow_id, s.alert_name, s.subject, _naive_utc(s.starts_at),
             _naive_utc(s.until), s.by, s.reason)
            for i, s in enumerate(alerting.silences)
        ],
    }
