"""Workflow specs: the shape of each sample workflow, read from ``workflows.yml`` and validated.

The numbers that matter for SLOs come from the governance register; a spec says how runs of one
workflow look (stages, retries, approvals, exception mix) relative to those register targets.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path

import yaml

SPEC_PATH = Path(__file__).with_name("workflows.yml")
STAGE_KINDS = ("system", "ai", "human")
ATTRIBUTE_KINDS = ("order", "invoice", "feed", "return", "statement", "supplier", "generic")


class SpecError(ValueError):
    """workflows.yml is malformed; the message names the entry and the rule."""


@dataclass(frozen=True)
class StageSpec:
    name: str
    kind: str  # "system" | "ai" | "human"
    median: float  # relative units (scaled per workflow to hit the p90 target)
    sigma: float = 0.5
    wait: float = 0.05  # relative median queue wait before the stage starts
    p_retry: float = 0.04  # probability of at least one failed attempt
    p_timeout: float = 0.3  # share of failed attempts that are timeouts


@dataclass(frozen=True)
class WorkflowSpec:
    stages: tuple[StageSpec, ...]
    volume_weight: float = 1.0
    p90_ratio: float = 1.0  # generated p90 cycle time / register SLO p90
    exception_ratio: float = 1.0  # share of runs with an exception / register monthly budget
    fail_share: float = 0.35  # share of exception runs that fail
    p_compensate: float = 0.5
    class_weights: dict[str, float] = field(default_factory=dict)
    approval_before: int | None = None  # index of the stage an approval gates
    p_approval: float = 0.0
    p_reject: float = 0.08
    approval_wait: float = 0.5  # relative median approval wait
    attributes: str = "generic"
    ack_ratio: float = 0.5  # median time-to-first-touch / SLO
    resolve_ratio: float = 0.35  # median time-to-resolution / SLO
    people: tuple[str, ...] = ()
    fixed_p90_hours: float | None = None  # used when the workflow has no SLO (unregistered)


@dataclass(frozen=True)
class Unregistered:
    """The workflow that is not in the register (the landing keeps it; the marts flag it)."""

    workflow_id: str
    owner: str
    region: str
    exception_pct: float
    event_share: float
    spec: WorkflowSpec


@dataclass(frozen=True)
class Catalog:
    """Everything workflows.yml holds."""

    people: tuple[str, ...]
    workflows: dict[str, WorkflowSpec]
    unregistered: Unregistered
    generic_stages: tuple[StageSpec, ...]
    error_codes_by_class: dict[str, tuple[str, ...]]
    retry_error_codes: tuple[str, ...]
    reject_error_code: str

    def spec_for(self, workflow_id: str) -> WorkflowSpec:
        """The workflow's spec, or a generic one derived from its id (custom registers in tests)."""
        spec = self.workflows.get(workflow_id)
        if spec is not None:
            return spec
        h = int.from_bytes(hashlib.sha256(workflow_id.encode()).digest()[:4], "big")
        return WorkflowSpec(
            stages=self.generic_stages,
            p90_ratio=0.8 + (h % 5) * 0.1,
            exception_ratio=0.7 + (h % 7) * 0.1,
            people=tuple(self.people[(h + i) % len(self.people)] for i in range(4)),
        )


# ------------------------------------------------------------------------------------------------
# Loading and validation
# ------------------------------------------------------------------------------------------------

_STAGE_FIELDS = {f.name for f in fields(StageSpec)}
_WORKFLOW_FIELDS = {f.name for f in fields(WorkflowSpec)}
_PROBABILITIES = ("p_retry", "p_timeout", "fail_share", "p_compensate", "p_approval", "p_reject")


def _mapping(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _known_keys(entry: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _check_numbers(values: dict, where: str) -> None:
    for key, value in values.items():
        if key in ("name", "kind", "attributes", "people", "class_weights", "stages", "approval_before"):
            continue
        if value is None and key == "fixed_p90_hours":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SpecError(f"{where}: {key} must be a non-negative number, got {value!r}")
        if key in _PROBABILITIES and value > 1:
            raise SpecError(f"{where}: {key} is a probability, got {value!r}")


def parse_stage(entry, defaults: dict, where: str) -> StageSpec:
    entry = _mapping(entry, where)
    _known_keys(entry, _STAGE_FIELDS, where)
    values = {**defaults, **entry}
    for key in ("name", "kind", "median"):
        if key not in values:
            raise SpecError(f"{where}: missing {key}")
    if not isinstance(values["name"], str) or not values["name"]:
        raise SpecError(f"{where}: name must be a non-empty string")
    if values["kind"] not in STAGE_KINDS:
        raise SpecError(f"{where}: kind must be one of {', '.join(STAGE_KINDS)}, got {values['kind']!r}")
    _check_numbers(values, where)
    if values["median"] <= 0:
        raise SpecError(f"{where}: median must be positive")
    return StageSpec(**{k: (v if k in ("name", "kind") else float(v)) for k, v in values.items()})


def parse_workflow(entry, defaults: dict, where: str) -> WorkflowSpec:
    entry = _mapping(entry, where)
    _known_keys(entry, _WORKFLOW_FIELDS, where)
    raw_stages = entry.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise SpecError(f"{where}: stages must be a non-empty list")
    stages = tuple(parse_stage(s, defaults.get("stage", {}), f"{where}.stages[{i}]") for i, s in enumerate(raw_stages))
    values = {**defaults.get("workflow", {}), **entry}
    _check_numbers(values, where)
    if values.get("attributes", "generic") not in ATTRIBUTE_KINDS:
        raise SpecError(f"{where}: attributes must be one of {', '.join(ATTRIBUTE_KINDS)}")
    gate = values.get("approval_before")
    if gate is not None and (isinstance(gate, bool) or not isinstance(gate, int) or not 0 <= gate < len(stages)):
        raise SpecError(f"{where}: approval_before must be a stage index (0..{len(stages) - 1})")
    weights = _mapping(values.get("class_weights", {}), f"{where}.class_weights")
    _check_numbers(weights, f"{where}.class_weights")
    values.update(
        stages=stages,
        class_weights={str(k): float(v) for k, v in weights.items()},
        people=_strings(values.get("people", []), f"{where}.people") if values.get("people") else (),
    )
    return WorkflowSpec(**values)


def parse_catalog(doc) -> Catalog:
    """Validate the parsed workflows.yml; raise SpecError naming the entry and the rule."""
    doc = _mapping(doc, "workflows.yml")
    _known_keys(doc, {"defaults", "people", "workflows", "unregistered", "generic_stages", "error_codes_by_class",
                      "retry_error_codes", "reject_error_code"}, "workflows.yml")
    defaults = _mapping(doc.get("defaults", {}), "defaults")
    workflows = {
        str(wid): parse_workflow(entry, defaults, f"workflows.{wid}")
        for wid, entry in _mapping(doc.get("workflows"), "workflows").items()
    }
    un = _mapping(doc.get("unregistered"), "unregistered")
    _known_keys(un, {"workflow_id", "owner", "region", "exception_pct", "event_share", "spec"}, "unregistered")
    _check_numbers({k: un.get(k) for k in ("exception_pct", "event_share")}, "unregistered")
    unregistered = Unregistered(
        workflow_id=str(un["workflow_id"]), owner=str(un["owner"]), region=str(un["region"]),
        exception_pct=float(un["exception_pct"]), event_share=float(un["event_share"]),
        spec=parse_workflow(un.get("spec"), defaults, "unregistered.spec"),
    )
    generic = doc.get("generic_stages")
    if not isinstance(generic, list) or not generic:
        raise SpecError("generic_stages: expected a non-empty list")
    codes = _mapping(doc.get("error_codes_by_class"), "error_codes_by_class")
    reject = doc.get("reject_error_code")
    if not isinstance(reject, str) or not reject:
        raise SpecError("reject_error_code: expected a non-empty string")
    return Catalog(
        people=_strings(doc.get("people"), "people"),
        workflows=workflows,
        unregistered=unregistered,
        generic_stages=tuple(parse_stage(s, defaults.get("stage", {}), f"generic_stages[{i}]")
                             for i, s in enumerate(generic)),
        error_codes_by_class={str(k): _strings(v, f"error_codes_by_class.{k}") for k, v in codes.items()},
        retry_error_codes=_strings(doc.get("retry_error_codes"), "retry_error_codes"),
        reject_error_code=reject,
    )


def load_catalog(path: Path | str = SPEC_PATH) -> Catalog:
    """Read and validate a workflows file (the package's own by default)."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: cannot read workflow specs: {exc}") from exc
    return parse_catalog(doc)


@cache
def default_catalog() -> Catalog:
    """The package's workflows.yml, loaded once per process."""
    return load_catalog(SPEC_PATH)
