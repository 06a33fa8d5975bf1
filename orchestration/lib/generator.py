"""Deterministic sample-data generator: workflow telemetry events and a minimal event log.

``generate_events`` simulates runs of every workflow in the governance register (plus a small
share of an unregistered ``legacy_batch_v0``) over ``[end_date - days, end_date)`` UTC and returns a
pyarrow table whose visible columns are exactly ``contract.TELEMETRY_FIELDS``. ``write_events``
serialises it as JSONL, CSV or Parquet. ``generate_minimal_log`` produces the seed-001 "minimum
viable event log" (case_id, event_name, timestamp, actor, ...) for an order-to-ship journey.

Determinism: every random draw comes from ``numpy.random.Generator`` seeded from ``seed``; ids are
derived from a bijective 64-bit mix of a namespace (sha256 of the generation arguments) and a
counter, so the same arguments give the same bytes in every format.

Column types of the table (and of the Parquet file): strings for ids, ``event_ts`` (ISO 8601 text)
and ``attributes`` (JSON object as text); int64 ``duration_ms``/``severity``/``attempt``; float64
``cost_cents``/``confidence``; all optional columns nullable.

Hidden column: ``_raw`` (string). When non-null the row is a format-specific defect and
``write_events`` writes that text verbatim as the row's line (JSONL: truncated JSON, or a number
field holding text; CSV: a record with text in a number column). The format it was rendered for is
in the schema metadata ``generator.fmt``; for any other format those rows are skipped. Parquet
output never contains ``_raw`` rows. ``write_events`` never writes the hidden column.

Durations: the time components of each workflow are drawn in relative units and scaled so the p90
cycle time (run_started -> run_completed) of the generated completed runs lands at
``sla.cycle_time_p90_hours x p90_ratio`` (ratio per workflow spec: some above 1, some below).
``duration_ms`` is the elapsed time since the matching start event on stage_completed /
stage_timed_out (since stage_started), run_completed / run_failed (since run_started) and
approval_granted / approval_rejected (since approval_requested). ``cost_cents`` is only on
stage_completed and stage_timed_out, so it can be summed without double counting.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.lib.contract import (
    EVENT_TYPES,
    EXCEPTION_EVENT_TYPES,
    MINIMAL_REQUIRED_FIELDS,
    REQUIRED_FIELDS,
    TELEMETRY_FIELDS,
)

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
LEGACY_WORKFLOW_ID = "legacy_batch_v0"
RAW_COLUMN = "_raw"
FMT_METADATA_KEY = b"generator.fmt"
#: Columns whose values are JSON objects (nested in JSONL, JSON text in CSV and Parquet).
JSON_COLUMNS: frozenset[str] = frozenset({"attributes"})


MINIMAL_FIELDS: tuple[str, ...] = MINIMAL_REQUIRED_FIELDS + ("channel", "location", "region", "amount", "reason_code")

#: Defect kinds per output format (format-specific kinds need text a typed column cannot hold).
DEFECT_KINDS_COMMON: tuple[str, ...] = tuple(f"missing_{f}" for f in REQUIRED_FIELDS) + (
    "invalid_identifier",
    "unparseable_timestamp",
    "unknown_event_type",
    "invalid_type_attributes",
    "negative_duration_ms",
    "negative_cost_cents",
    "confidence_out_of_range",
    "missing_exception_id",
    "future_timestamp",
    "duplicate_event_id",
)
DEFECT_KINDS: dict[str, tuple[str, ...]] = {
    "jsonl": DEFECT_KINDS_COMMON + ("invalid_type_number", "malformed_json"),
    "csv": DEFECT_KINDS_COMMON + ("invalid_type_number",),
    "parquet": DEFECT_KINDS_COMMON,
}

_ET = {name: i for i, name in enumerate(EVENT_TYPES)}
_STATUS_BY_EVENT = {
    "run_started": "running",
    "stage_started": "running",
    "stage_completed": "succeeded",
    "stage_retried": "retrying",
    "stage_timed_out": "timed_out",
    "approval_requested": "pending_approval",
    "approval_granted": "approved",
    "approval_rejected": "rejected",
    "exception_raised": "open",
    "exception_acknowledged": "acknowledged",
    "exception_resolved": "resolved",
    "run_completed": "succeeded",
    "run_failed": "failed",
    "run_compensated": "compensated",
}

_MS_PER_HOUR = 3_600_000
_MS_PER_MIN = 60_000
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


# --------------------------------------------------------------------------------------------------
# Workflow specs (shape of each workflow; the numbers that matter for SLOs come from the register)
# --------------------------------------------------------------------------------------------------


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


_PEOPLE = (
    "a.lee@company.com", "j.smith@company.com", "m.garcia@company.com", "p.nguyen@company.com",
    "s.okafor@company.com", "l.rossi@company.com", "k.tanaka@company.com", "r.patel@company.com",
    "e.schmidt@company.com", "d.kowalski@company.com", "c.dubois@company.com", "h.kim@company.com",
    "t.obrien@company.com", "n.silva@company.com", "b.jensen@company.com", "y.chen@company.com",
)

WORKFLOW_SPECS: dict[str, WorkflowSpec] = {
    "fulfillment_v2": WorkflowSpec(
        stages=(
            StageSpec("validate_order", "system", 0.6, 0.4, 0.02, 0.03),
            StageSpec("allocate_inventory", "system", 1.0, 0.6, 0.05, 0.06, 0.5),
            StageSpec("pick_pack", "human", 4.0, 0.5, 1.5, 0.01),
            StageSpec("generate_label", "system", 0.3, 0.4, 0.05, 0.08, 0.6),
            StageSpec("dispatch", "system", 0.8, 0.5, 0.3, 0.03),
        ),
        volume_weight=1.6, p90_ratio=1.2, exception_ratio=1.3,
        class_weights={"VALIDATION": 0.35, "EXTERNAL_DEPENDENCY": 0.25, "DATA_DEPENDENCY": 0.2,
                       "ORCHESTRATION": 0.15, "POLICY": 0.05},
        attributes="order", ack_ratio=0.6, resolve_ratio=0.4, people=_PEOPLE[0:5],
    ),
    "invoice_posting_v1": WorkflowSpec(
        stages=(
            StageSpec("ingest_invoice", "system", 0.4, 0.4, 0.02, 0.02),
            StageSpec("extract_fields", "ai", 0.8, 0.5, 0.05, 0.05, 0.4),
            StageSpec("match_purchase_order", "ai", 1.0, 0.6, 0.05, 0.03),
            StageSpec("review_exceptions", "human", 2.5, 0.7, 1.0, 0.01),
            StageSpec("post_to_erp", "system", 0.5, 0.5, 0.05, 0.06, 0.5),
        ),
        volume_weight=1.2, p90_ratio=0.85, exception_ratio=0.7,
        class_weights={"VALIDATION": 0.4, "DATA_DEPENDENCY": 0.25, "POLICY": 0.15,
                       "ORCHESTRATION": 0.1, "EXTERNAL_DEPENDENCY": 0.1},
        approval_before=4, p_approval=0.25, p_reject=0.1, approval_wait=1.5,
        attributes="invoice", ack_ratio=0.45, resolve_ratio=0.3, people=_PEOPLE[5:9],
    ),
    "inventory_sync_v1": WorkflowSpec(
        stages=(
            StageSpec("fetch_supplier_feed", "system", 1.0, 0.7, 0.02, 0.12, 0.7),
            StageSpec("transform_feed", "system", 0.7, 0.4, 0.02, 0.03),
            StageSpec("reconcile_stock", "system", 1.2, 0.5, 0.05, 0.05, 0.4),
            StageSpec("publish_updates", "system", 0.5, 0.5, 0.02, 0.08, 0.6),
        ),
        volume_weight=1.0, p90_ratio=1.35, exception_ratio=1.6,
        class_weights={"EXTERNAL_DEPENDENCY": 0.5, "DATA_DEPENDENCY": 0.3, "ORCHESTRATION": 0.15,
                       "VALIDATION": 0.05, "POLICY": 0.02},
        attributes="feed", ack_ratio=0.8, resolve_ratio=0.45, people=_PEOPLE[9:12],
    ),
    "returns_processing_v1": WorkflowSpec(
        stages=(
            StageSpec("receive_return_request", "system", 0.3, 0.4, 0.02, 0.02),
            StageSpec("classify_return_reason", "ai", 0.5, 0.5, 0.05, 0.03),
            StageSpec("inspect_item", "human", 4.0, 0.6, 3.0, 0.01),
            StageSpec("issue_refund", "system", 0.6, 0.5, 0.1, 0.05, 0.4),
            StageSpec("restock_item", "human", 1.5, 0.6, 1.0, 0.01),
        ),
        volume_weight=0.6, p90_ratio=0.9, exception_ratio=0.8,
        class_weights={"VALIDATION": 0.3, "POLICY": 0.25, "EXTERNAL_DEPENDENCY": 0.2,
                       "DATA_DEPENDENCY": 0.15, "ORCHESTRATION": 0.1},
        approval_before=3, p_approval=0.2, p_reject=0.12, approval_wait=2.0,
        attributes="return", ack_ratio=0.5, resolve_ratio=0.3, people=_PEOPLE[0:2] + _PEOPLE[12:14],
    ),
    "payment_reconciliation_v1": WorkflowSpec(
        stages=(
            StageSpec("load_bank_statement", "system", 0.5, 0.5, 0.02, 0.06, 0.5),
            StageSpec("match_transactions", "ai", 1.5, 0.6, 0.05, 0.03),
            StageSpec("resolve_mismatches", "human", 3.0, 0.8, 1.5, 0.01),
            StageSpec("post_adjustments", "system", 0.5, 0.4, 0.05, 0.04),
        ),
        volume_weight=1.0, p90_ratio=1.1, exception_ratio=1.1,
        class_weights={"DATA_DEPENDENCY": 0.35, "VALIDATION": 0.25, "EXTERNAL_DEPENDENCY": 0.2,
                       "POLICY": 0.1, "ORCHESTRATION": 0.1},
        approval_before=3, p_approval=0.15, p_reject=0.06, approval_wait=1.0,
        attributes="statement", ack_ratio=0.7, resolve_ratio=0.5, people=_PEOPLE[5:7] + _PEOPLE[14:16],
    ),
    "supplier_onboarding_v1": WorkflowSpec(
        stages=(
            StageSpec("collect_documents", "human", 3.0, 0.7, 1.0, 0.01),
            StageSpec("verify_tax_id", "ai", 0.4, 0.5, 0.1, 0.05, 0.5),
            StageSpec("sanctions_screening", "ai", 0.5, 0.5, 0.1, 0.04, 0.5),
            StageSpec("compliance_review", "human", 4.0, 0.6, 2.0, 0.01),
            StageSpec("create_vendor_record", "system", 0.3, 0.4, 0.1, 0.03),
            StageSpec("notify_supplier", "system", 0.1, 0.4, 0.05, 0.05, 0.3),
        ),
        volume_weight=0.6, p90_ratio=0.8, exception_ratio=0.9,
        class_weights={"POLICY": 0.4, "VALIDATION": 0.3, "EXTERNAL_DEPENDENCY": 0.15,
                       "DATA_DEPENDENCY": 0.1, "ORCHESTRATION": 0.05},
        approval_before=4, p_approval=0.9, p_reject=0.08, approval_wait=2.0,
        attributes="supplier", ack_ratio=0.4, resolve_ratio=0.3, people=_PEOPLE[10:16],
    ),
}

LEGACY_SPEC = WorkflowSpec(
    stages=(
        StageSpec("extract_batch", "system", 1.0, 0.5, 0.02, 0.05),
        StageSpec("load_batch", "system", 1.0, 0.5, 0.05, 0.05),
    ),
    exception_ratio=1.0, attributes="generic", people=_PEOPLE[2:4], fixed_p90_hours=1.5,
)
LEGACY_OWNER = "batch-legacy@company.com"
LEGACY_REGION = "us-east-1"
LEGACY_EXCEPTION_PCT = 3.0
LEGACY_EVENT_SHARE = 0.005


def _generic_spec(workflow_id: str) -> WorkflowSpec:
    """Spec for a registered workflow this module has no shape for (custom registers in tests)."""
    h = int.from_bytes(hashlib.sha256(workflow_id.encode()).digest()[:4], "big")
    return WorkflowSpec(
        stages=(
            StageSpec("ingest", "system", 0.5, 0.4, 0.02, 0.04),
            StageSpec("process", "ai", 1.0, 0.5, 0.05, 0.05),
            StageSpec("review", "human", 2.0, 0.6, 1.0, 0.01),
            StageSpec("publish", "system", 0.4, 0.4, 0.05, 0.05),
        ),
        p90_ratio=0.8 + (h % 5) * 0.1,
        exception_ratio=0.7 + (h % 7) * 0.1,
        people=tuple(_PEOPLE[(h + i) % len(_PEOPLE)] for i in range(4)),
    )


_ERROR_CODES_BY_CLASS = {
    "VALIDATION": ("INVALID_ADDRESS", "MISSING_FIELD", "SCHEMA_MISMATCH", "AMOUNT_MISMATCH"),
    "ORCHESTRATION": ("WORKER_CRASHED", "STATE_MACHINE_ERROR", "TASK_HEARTBEAT_LOST"),
    "DATA_DEPENDENCY": ("UPSTREAM_TABLE_STALE", "MISSING_REFERENCE_DATA", "LATE_FILE"),
    "EXTERNAL_DEPENDENCY": ("HTTP_503", "HTTP_429", "CARRIER_API_TIMEOUT", "BANK_API_UNAVAILABLE"),
    "POLICY": ("SANCTIONS_HIT", "APPROVAL_LIMIT_EXCEEDED", "RESIDENCY_VIOLATION"),
}
_RETRY_ERROR_CODES = ("HTTP_503", "HTTP_429", "CONNECTION_RESET", "LOCK_TIMEOUT", "RATE_LIMITED")
_REJECT_ERROR_CODE = "APPROVAL_REJECTED"

_REGION_OFFSETS_MIN = {  # plausible local offsets for the "explicit offset" timestamps
    "us-east-1": (-300, -240),
    "eu-west-1": (0, 60),
    "ap-southeast-2": (600, 660),
}

_HOSTILE_STAGES = (
    'pick, pack & "ship"',
    "label\nprint (retry)",
    "vérification ✓ 検査 — étape",
    "stage'; drop table x; --",
)
_HOSTILE_ATTRIBUTES = (
    {"note": "'; drop table x; --", "comment": 'He said "ship it", then left\nline two'},
    {"customer_name": "Zoë Ñúñez 🚚", "note": "tab\there, back\\slash, comma, \"quote\""},
    {"note": "Robert'); DROP TABLE students;--", "emoji": "✅❌", "empty": ""},
)


# --------------------------------------------------------------------------------------------------
# Deterministic ids
# --------------------------------------------------------------------------------------------------


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 (distinct inputs give distinct outputs)."""
    z = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def _namespace(*parts: object) -> np.uint64:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return np.uint64(int.from_bytes(digest[:8], "big"))


def _hex_ids(prefix: str, namespace: np.uint64, counters: np.ndarray) -> pa.Array:
    """``prefix`` + 16 hex digits, unique per counter within a namespace."""
    counters = np.asarray(counters, dtype=np.uint64)
    with np.errstate(over="ignore"):
        vals = _mix64(counters + namespace)
    if len(vals) == 0:
        return pa.array([], pa.string())
    hexed = vals.astype(">u8").tobytes().hex().encode("ascii")
    arr = pa.array(np.frombuffer(hexed, dtype="S16"), pa.binary(16)).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), arr, "")


# --------------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------------


def _epoch_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def _iso_ms(ms: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DDTHH:MM:SS.mmm' (no zone) for epoch milliseconds."""
    return np.datetime_as_string(np.asarray(ms, dtype="int64").astype("datetime64[ms]"), unit="ms")


def _format_ts(ms: np.ndarray, offsets_min: np.ndarray, style: np.ndarray) -> pa.Array:
    """style 0: '...Z'; 1: local time with an explicit '+HH:MM' offset; 2: no offset (meaning UTC)."""
    ms = np.asarray(ms, dtype=np.int64)
    if len(ms) == 0:
        return pa.array([], pa.string())
    off = np.where(style == 1, offsets_min, 0).astype(np.int64)
    base = pa.array(_iso_ms(ms + off * _MS_PER_MIN).astype(object), pa.string())
    uniq = np.unique(off[style == 1])
    suffixes = ["Z", ""] + [f"{'-' if o < 0 else '+'}{abs(o) // 60:02d}:{abs(o) % 60:02d}" for o in uniq.tolist()]
    code = np.where(style == 0, 0, np.where(style == 2, 1, 2 + np.searchsorted(uniq, off)))
    return pc.binary_join_element_wise(base, pc.take(pa.array(suffixes, pa.string()), pa.array(code, pa.int64())), "")


# --------------------------------------------------------------------------------------------------
# Event buffer (columnar; one emit call per event kind per stage, vectorised over runs)
# --------------------------------------------------------------------------------------------------

_NULL_I64 = np.iinfo(np.int64).min


class _Buffer:
    COLS = ("run", "t", "etype", "seq", "stage", "duration", "cost", "conf", "exc", "actor",
            "attempt", "error", "attrs")

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {c: [] for c in self.COLS}

    def emit(self, run, t, etype: str, seq: int, *, stage=-1, duration=None, cost=None, conf=None,
             exc=-1, actor=-1, attempt=0, error=-1, attrs=-1) -> None:
        run = np.asarray(run, dtype=np.int64)
        n = len(run)
        if n == 0:
            return

        def full(v, dtype, null):
            if v is None:
                return np.full(n, null, dtype=dtype)
            v = np.asarray(v)
            # always a copy: callers keep mutating their cursor arrays after emitting
            return np.full(n, v, dtype=dtype) if v.ndim == 0 else v.astype(dtype, copy=True)

        p = self.parts
        p["run"].append(run.copy())
        p["t"].append(full(t, np.int64, 0))
        p["etype"].append(np.full(n, _ET[etype], dtype=np.int8))
        p["seq"].append(np.full(n, seq, dtype=np.int32))
        p["stage"].append(full(stage, np.int32, -1))
        p["duration"].append(full(duration, np.int64, _NULL_I64))
        p["cost"].append(full(cost, np.float64, np.nan))
        p["conf"].append(full(conf, np.float64, np.nan))
        p["exc"].append(full(exc, np.int64, -1))
        p["actor"].append(full(actor, np.int32, -1))
        p["attempt"].append(full(attempt, np.int16, 0))
        p["error"].append(full(error, np.int32, -1))
        p["attrs"].append(full(attrs, np.int64, -1))

    _DTYPES = {"run": np.int64, "t": np.int64, "etype": np.int8, "seq": np.int32, "stage": np.int32,
               "duration": np.int64, "cost": np.float64, "conf": np.float64, "exc": np.int64,
               "actor": np.int32, "attempt": np.int16, "error": np.int32, "attrs": np.int64}

    def arrays(self) -> dict[str, np.ndarray]:
        return {c: (np.concatenate(v) if v else np.empty(0, dtype=self._DTYPES[c])) for c, v in self.parts.items()}


class _Interner:
    """String -> code, in first-seen order (deterministic)."""

    def __init__(self, initial: tuple[str, ...] = ()) -> None:
        self.values: list[str] = []
        self.codes: dict[str, int] = {}
        for v in initial:
            self(v)

    def __call__(self, value: str) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code

    def many(self, values) -> np.ndarray:
        return np.array([self(v) for v in values], dtype=np.int32)


# --------------------------------------------------------------------------------------------------
# Event generation
# --------------------------------------------------------------------------------------------------


def _default_register():
    from orchestration.lib.register import load_register

    return load_register(Path(__file__).resolve().parents[2] / "command_center.yml")


@dataclass
class _WorkflowPlan:
    workflow_id: str
    spec: WorkflowSpec
    regions: tuple[str, ...]
    owner: str | None
    p90_hours: float
    exception_pct: float
    first_touch_min: float
    resolution_hours: float
    volume_weight: float


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(size))


def _attributes_json(kind: str, rng: np.random.Generator, n: int, first_id: int,
                     redact_fields: tuple[str, ...]) -> list[str | None]:
    """Per-run attribute objects as compact JSON text (fake values; some carry redaction fields)."""
    num = rng.integers(100_000, 999_999, size=n)
    amount = np.round(_lognormal(rng, 180.0, 0.9, n), 2)
    cust = rng.integers(1, 500_000, size=n)
    acct = rng.integers(10**13, 10**14, size=n)
    pick = rng.random(n)
    channel = np.array(["web", "mobile_app", "marketplace", "edi"])[rng.integers(0, 4, size=n)]
    present = rng.random(n) < 0.95
    out: list[str | None] = []
    for i in range(n):
        if not present[i]:
            out.append(None)
            continue
        k = first_id + i
        if kind == "order":
            obj = {"order_id": f"ORD-{num[i]}-{k}", "channel": str(channel[i]), "order_value": float(amount[i])}
            if pick[i] < 0.8:
                obj["customer_email"] = f"customer{cust[i]}@example.com"
        elif kind == "invoice":
            obj = {"invoice_id": f"INV-{num[i]}-{k}", "amount": float(amount[i] * 10), "currency": "EUR"}
            if pick[i] < 0.7:
                obj["bank_account"] = f"GB{acct[i] % 90 + 10}TEST{acct[i]:014d}"
        elif kind == "return":
            obj = {"rma_id": f"RMA-{num[i]}-{k}", "order_id": f"ORD-{cust[i]}", "refund_value": float(amount[i])}
            if pick[i] < 0.85:
                obj["customer_email"] = f"customer{cust[i]}@example.com"
        elif kind == "statement":
            obj = {"statement_id": f"STM-{num[i]}-{k}", "transactions": int(num[i] % 900 + 50)}
            if pick[i] < 0.9:
                obj["bank_account"] = f"DE{acct[i] % 90 + 10}TEST{acct[i]:014d}"
        elif kind == "supplier":
            obj = {"supplier_id": f"SUP-{num[i]}-{k}", "country": str(np.array(["AU", "US", "NZ", "SG"])[cust[i] % 4])}
            if pick[i] < 0.75:
                obj["bank_account"] = f"AU{acct[i] % 90 + 10}TEST{acct[i]:014d}"
        elif kind == "feed":
            obj = {"feed_id": f"FEED-{num[i] % 40:03d}", "sku_count": int(num[i] % 5000 + 100)}
        else:
            obj = {"batch_id": f"B-{num[i]}-{k}"}
        obj = {key: v for key, v in obj.items() if key not in ("customer_email", "bank_account") or key in redact_fields}
        out.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    return out


def _simulate_workflow(rng: np.random.Generator, plan: _WorkflowPlan, wf_code: int, *, days: int,
                       runs_per_day: int, start_ms: int, run_offset: int, buf: _Buffer,
                       stage_names: _Interner, actors: _Interner, errors: _Interner,
                       exc_rows: dict[str, list[np.ndarray]], fixed_runs: int | None = None,
                       ) -> dict[str, np.ndarray]:
    spec = plan.spec
    S = len(spec.stages)
    # ---- runs: per-day Poisson counts with a weekly pattern and a mild trend ----
    if fixed_runs is None:
        day_idx = np.arange(days)
        day_of_week = ((start_ms // 86_400_000) + 3 + day_idx) % 7  # 1970-01-01 was a Thursday
        weekly = np.where(day_of_week >= 5, 0.6, 1.1)
        trend = 0.9 + 0.2 * (day_idx / max(days - 1, 1))
        lam = runs_per_day * plan.volume_weight * weekly * trend
        counts = rng.poisson(lam)
    else:
        counts = np.bincount(rng.integers(0, days, size=fixed_runs), minlength=days)
    R = int(counts.sum())
    runs = {"wf": np.full(R, wf_code, dtype=np.int32)}
    if R == 0:
        runs.update(start=np.empty(0, np.int64), region=np.empty(0, np.int32), owner_null=np.empty(0, bool))
        return runs
    day_of_run = np.repeat(np.arange(days), counts)
    # time of day: 70% business hours (around 13:00 UTC), 30% uniform
    busy = rng.random(R) < 0.7
    tod = np.where(busy, np.clip(rng.normal(13.0, 3.5, R), 0, 23.999), rng.uniform(0, 24, R))
    start = start_ms + day_of_run.astype(np.int64) * 86_400_000 + (tod * _MS_PER_HOUR).astype(np.int64)
    order = np.argsort(start, kind="stable")
    start = start[order]
    run_idx = run_offset + np.arange(R, dtype=np.int64)
    nreg = len(plan.regions)
    reg_w = np.array([1.0 / (i + 1) for i in range(nreg)])
    region = rng.choice(nreg, size=R, p=reg_w / reg_w.sum()).astype(np.int32)
    owner_null = rng.random(R) < (0.5 if plan.owner is None else 0.02)
    runs.update(start=start, region=region, owner_null=owner_null)

    # ---- outcome draws ----
    target_exc = plan.exception_pct / 100.0 * spec.exception_ratio
    p_fail = target_exc * spec.fail_share
    p_handled = max(target_exc - p_fail, 0.0)
    fails = rng.random(R) < p_fail
    fail_stage = np.where(fails, rng.integers(0, S, size=R), S)
    ab = spec.approval_before
    appr = (rng.random(R) < spec.p_approval) if ab is not None else np.zeros(R, bool)
    appr &= fail_stage >= (ab if ab is not None else 0)
    rej = appr & (rng.random(R) < spec.p_reject)
    appr_wait_u = _lognormal(rng, spec.approval_wait, 0.8, R)

    # ---- per-stage time components in relative units ----
    wait_u = np.empty((S, R))
    final_u = np.empty((S, R))
    retries = np.zeros((S, R), dtype=np.int8)
    att_u = np.zeros((S, 2, R))
    back_u = np.zeros((S, 2, R))
    is_to = np.zeros((S, 2, R), dtype=bool)
    for s, st in enumerate(spec.stages):
        wait_u[s] = _lognormal(rng, st.wait, 0.9, R)
        final_u[s] = _lognormal(rng, st.median, st.sigma, R)
        r = rng.random(R)
        retries[s] = np.where(r < st.p_retry * 0.25, 2, np.where(r < st.p_retry, 1, 0))
        for j in range(2):
            att_u[s, j] = final_u[s] * rng.uniform(0.2, 1.0, R)
            back_u[s, j] = st.median * 0.1 * (2**j) * rng.uniform(0.5, 1.5, R)
            is_to[s, j] = rng.random(R) < st.p_timeout
    # timeouts take the full timeout budget: 1.5x the stage median
    for s, st in enumerate(spec.stages):
        att_u[s] = np.where(is_to[s], st.median * 1.5, att_u[s])
    retry_u = (att_u + back_u) * (np.arange(2)[None, :, None] < retries[:, None, :])
    elapsed_u = retry_u.sum(axis=1) + final_u
    cycle_u = (wait_u + elapsed_u).sum(axis=0) + np.where(appr, appr_wait_u, 0.0)
    completed = (fail_stage == S) & ~rej
    p90_hours = spec.fixed_p90_hours if spec.fixed_p90_hours is not None else plan.p90_hours * spec.p90_ratio
    basis = cycle_u[completed] if completed.any() else cycle_u
    scale = p90_hours * _MS_PER_HOUR / float(np.quantile(basis, 0.9))  # ms per unit

    def ms(u):
        return np.maximum(np.rint(u * scale).astype(np.int64), 1)

    # ---- actors ----
    system = actors("system")
    people = actors.many(spec.people or _PEOPLE[:3])
    person = people[rng.integers(0, len(people), size=R)]
    approver = people[rng.integers(0, len(people), size=R)]
    retry_err = errors.many(_RETRY_ERROR_CODES)
    timeout_err = errors("TIMEOUT")

    # ---- emit ----
    t = start.copy()
    buf.emit(run_idx, t, "run_started", 0, actor=system, attrs=run_idx)
    stopped = np.zeros(R, dtype=bool)  # rejected -> no more stages
    stage_start = np.full((S, R), -1, dtype=np.int64)
    stage_end = np.full((S, R), -1, dtype=np.int64)
    for s, st in enumerate(spec.stages):
        seq = 10 + s * 20
        scode = stage_names(st.name)
        if ab == s:
            a = np.nonzero(appr & ~stopped)[0]
            t_req = t[a] + 1000
            t_dec = t_req + ms(appr_wait_u[a])
            buf.emit(run_idx[a], t_req, "approval_requested", seq - 2, stage=scode, actor=system)
            r_a = rej[a]
            g = a[~r_a]
            buf.emit(run_idx[g], t_dec[~r_a], "approval_granted", seq - 1, stage=scode, actor=approver[g],
                     duration=t_dec[~r_a] - t_req[~r_a])
            rj = a[r_a]
            buf.emit(run_idx[rj], t_dec[r_a], "approval_rejected", seq - 1, stage=scode, actor=approver[rj],
                     duration=t_dec[r_a] - t_req[r_a])
            buf.emit(run_idx[rj], t_dec[r_a] + 1500, "run_failed", seq - 1, stage=scode, actor=system,
                     error=errors(_REJECT_ERROR_CODE), duration=t_dec[r_a] + 1500 - start[rj])
            t[a] = t_dec
            stopped |= rej
        alive = (~stopped) & (fail_stage >= s)
        idx = np.nonzero(alive)[0]
        if len(idx) == 0:
            continue
        actor_s = person[idx] if st.kind == "human" else system
        t_s = t[idx] + ms(wait_u[s, idx])
        stage_start[s, idx] = t_s
        buf.emit(run_idx[idx], t_s, "stage_started", seq, stage=scode, actor=actor_s, attempt=1)
        cur = t_s.copy()
        for j in range(2):
            has = retries[s, idx] > j
            h = idx[has]
            t_att = cur[has] + ms(att_u[s, j, h])
            to = is_to[s, j, h]
            buf.emit(run_idx[h[to]], t_att[to], "stage_timed_out", seq + 1 + 2 * j, stage=scode,
                     actor=system, attempt=j + 1, error=timeout_err, duration=t_att[to] - t_s[has][to],
                     cost=np.round(_lognormal(rng, 0.5, 0.5, int(to.sum())), 4))
            t_retry = t_att + ms(back_u[s, j, h])
            err = np.where(to, timeout_err, retry_err[rng.integers(0, len(retry_err), size=len(h))])
            buf.emit(run_idx[h], t_retry, "stage_retried", seq + 2 + 2 * j, stage=scode, actor=system,
                     attempt=j + 2, error=err)
            cur[has] = t_retry
        t_fin = cur + ms(final_u[s, idx])
        attempt_fin = retries[s, idx].astype(np.int16) + 1
        failing = fail_stage[idx] == s
        # failing runs: the final attempt fails (half as a timeout), an exception, run_failed
        f = idx[failing]
        tf = t_fin[failing]
        to_f = rng.random(len(f)) < 0.5
        buf.emit(run_idx[f[to_f]], tf[to_f], "stage_timed_out", seq + 6, stage=scode, actor=system,
                 attempt=attempt_fin[failing][to_f], error=timeout_err, duration=tf[to_f] - t_s[failing][to_f],
                 cost=np.round(_lognormal(rng, 0.5, 0.5, int(to_f.sum())), 4))
        exc_rows["run"].append(run_idx[f])
        exc_rows["t"].append(tf + 500)
        exc_rows["stage"].append(np.full(len(f), scode, dtype=np.int32))
        exc_rows["wf"].append(np.full(len(f), wf_code, dtype=np.int32))
        exc_rows["person"].append(person[f])
        exc_rows["failure"].append(np.ones(len(f), dtype=bool))
        fail_err = np.where(to_f, timeout_err, retry_err[rng.integers(0, len(retry_err), size=len(f))])
        buf.emit(run_idx[f], tf + 1500, "run_failed", seq + 8, stage=scode, actor=system, error=fail_err,
                 duration=tf + 1500 - start[f])
        comp = rng.random(len(f)) < spec.p_compensate
        t_comp = tf[comp] + 1500 + (_lognormal(rng, 8.0, 0.8, int(comp.sum())) * _MS_PER_MIN).astype(np.int64)
        buf.emit(run_idx[f[comp]], t_comp, "run_compensated", seq + 9, stage=scode, actor=system)
        # completing runs
        c = idx[~failing]
        tc = t_fin[~failing]
        nc = len(c)
        if st.kind == "human":
            cost = _lognormal(rng, 250.0, 0.5, nc)
        elif st.kind == "ai":
            cost = _lognormal(rng, 6.0, 0.6, nc)
        else:
            cost = _lognormal(rng, 0.8, 0.7, nc)
        conf = np.round(rng.beta(8.0, 1.5, nc), 4) if st.kind == "ai" else None
        buf.emit(run_idx[c], tc, "stage_completed", seq + 7, stage=scode,
                 actor=person[c] if st.kind == "human" else system, attempt=attempt_fin[~failing],
                 duration=tc - t_s[~failing], cost=np.round(cost, 4), conf=conf)
        stage_end[s, idx] = t_fin
        t[idx] = t_fin
    done = np.nonzero(completed)[0]
    t_done = t[done] + rng.integers(200, 5000, size=len(done))
    buf.emit(run_idx[done], t_done, "run_completed", 10 + S * 20, actor=system, duration=t_done - start[done])

    # ---- handled exceptions: raised during a random reached stage; the run carries on ----
    handled = rng.random(R) < p_handled
    last_stage = np.minimum(fail_stage, S - 1)
    if ab is not None:
        last_stage = np.where(rej, ab - 1, last_stage)
    handled &= last_stage >= 0
    h = np.nonzero(handled)[0]
    hs = (rng.random(len(h)) * (last_stage[h] + 1)).astype(np.int64)
    s0 = stage_start[hs, h]
    s1 = np.where(stage_end[hs, h] > s0, stage_end[hs, h], s0 + 1000)
    t_exc = s0 + ((s1 - s0) * rng.random(len(h))).astype(np.int64)
    stage_codes = np.array([stage_names(st.name) for st in spec.stages], dtype=np.int32)
    exc_rows["run"].append(run_idx[h])
    exc_rows["t"].append(t_exc)
    exc_rows["stage"].append(stage_codes[hs])
    exc_rows["wf"].append(np.full(len(h), wf_code, dtype=np.int32))
    exc_rows["person"].append(person[h])
    exc_rows["failure"].append(np.zeros(len(h), dtype=bool))
    return runs


def _emit_exceptions(rng: np.random.Generator, exc_rows: dict[str, list[np.ndarray]], plans: list[_WorkflowPlan],
                     buf: _Buffer, actors: _Interner, errors: _Interner, class_codes: list[str],
                     class_sev: list[int], severities: list[int]) -> dict[str, np.ndarray]:
    ex = {k: (np.concatenate(v) if v else np.empty(0, np.int64)) for k, v in exc_rows.items()}
    n = len(ex["run"])
    order = np.lexsort((ex["run"], ex["t"]))
    ex = {k: v[order] for k, v in ex.items()}
    wf = ex["wf"].astype(np.int64)
    ncls = len(class_codes)
    # class per exception, from per-workflow weights (failures lean towards ORCHESTRATION/EXTERNAL)
    cls = np.zeros(n, dtype=np.int32)
    u = rng.random(n)
    for w, plan in enumerate(plans):
        weights = np.array([plan.spec.class_weights.get(c, 0.1) for c in class_codes], dtype=float)
        for failure in (False, True):
            wts = weights.copy()
            if failure:
                for i, c in enumerate(class_codes):
                    if c in ("ORCHESTRATION", "EXTERNAL_DEPENDENCY"):
                        wts[i] *= 3.0
            cdf = np.cumsum(wts / wts.sum())
            m = (wf == w) & (ex["failure"] == failure)
            cls[m] = np.minimum(np.searchsorted(cdf, u[m], side="right"), ncls - 1)
    sev = np.array(class_sev, dtype=np.int64)[cls]
    override = rng.random(n) < 0.1
    sev_choices = np.array(severities, dtype=np.int64)
    sev = np.where(override, sev_choices[rng.integers(0, len(sev_choices), size=n)], sev)
    # error code per class
    err = np.empty(n, dtype=np.int32)
    r = rng.random(n)
    for i, code in enumerate(class_codes):
        codes = errors.many(_ERROR_CODES_BY_CLASS.get(code, (f"{code}_ERROR",)))
        m = cls == i
        err[m] = codes[(r[m] * len(codes)).astype(np.int64) % len(codes)]
    # first touch and resolution, relative to the workflow's SLOs
    ft_min = np.array([p.first_touch_min for p in plans])[wf]
    res_h = np.array([p.resolution_hours for p in plans])[wf]
    ack_ratio = np.array([p.spec.ack_ratio for p in plans])[wf]
    res_ratio = np.array([p.spec.resolve_ratio for p in plans])[wf]
    ack_delay = np.maximum(ft_min * ack_ratio * np.exp(0.8 * rng.standard_normal(n)) * _MS_PER_MIN, 5000).astype(np.int64)
    res_delay = (res_h * res_ratio * np.exp(0.9 * rng.standard_normal(n)) * _MS_PER_HOUR).astype(np.int64)
    res_delay = np.maximum(res_delay, ack_delay + _MS_PER_MIN)
    never_ack = rng.random(n) < 0.01
    never_res = never_ack | (rng.random(n) < 0.03)
    exc_idx = np.arange(n, dtype=np.int64)
    system = actors("system")
    resolver = np.where(rng.random(n) < 0.8, ex["person"], ex["person"][rng.permutation(n)] if n else ex["person"])
    common = dict(stage=ex["stage"], exc=exc_idx, error=err)
    buf.emit(ex["run"], ex["t"], "exception_raised", 1000, actor=system, attrs=-2 - ex["run"], **common)
    a = ~never_ack
    buf.emit(ex["run"][a], ex["t"][a] + ack_delay[a], "exception_acknowledged", 1001, actor=ex["person"][a],
             stage=ex["stage"][a], exc=exc_idx[a], error=err[a])
    rs = ~never_res
    buf.emit(ex["run"][rs], ex["t"][rs] + res_delay[rs], "exception_resolved", 1002, actor=resolver[rs],
             stage=ex["stage"][rs], exc=exc_idx[rs], error=err[rs])
    return {"cls": cls, "sev": sev}


def generate_events(*, days: int, runs_per_day: int, seed: int, end_date: date, defect_rate: float = 0.005,
                    register=None, fmt: str = "jsonl") -> pa.Table:
    """Simulate ``days`` days of telemetry ending (exclusive) at ``end_date`` 00:00 UTC.

    ``runs_per_day`` is runs per workflow per day before the per-workflow volume weight (mean ~1).
    ``fmt`` selects the format-specific defect kinds (see ``DEFECT_KINDS``); the base events do not
    depend on ``fmt`` or ``defect_rate``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if runs_per_day < 0:
        raise ValueError("runs_per_day must not be negative")
    if not 0.0 <= defect_rate < 1.0:
        raise ValueError("defect_rate must be in [0, 1)")
    if isinstance(end_date, datetime):
        end_date = end_date.date()
    if register is None:
        register = _default_register()

    horizon_ms = _epoch_ms(end_date)
    start_ms = _epoch_ms(end_date - timedelta(days=days))
    workflow_ids = [o.workflow_id for o in register.owners]
    ns = _namespace("events-v1", seed, days, runs_per_day, end_date.isoformat(), ",".join(workflow_ids))
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32 & 0xFFFFFFFF, 1])
    rng_events, rng_defects = (np.random.default_rng(s) for s in ss.spawn(2))

    plans: list[_WorkflowPlan] = []
    for o in register.owners:
        spec = WORKFLOW_SPECS.get(o.workflow_id) or _generic_spec(o.workflow_id)
        plans.append(_WorkflowPlan(
            o.workflow_id, spec, tuple(o.regions), o.service_owner, o.sla.cycle_time_p90_hours,
            o.exception_budget.monthly_rate_pct, o.sla.exception_first_touch_minutes,
            o.sla.exception_resolution_hours, spec.volume_weight,
        ))
    mean_w = float(np.mean([p.volume_weight for p in plans]))
    for p in plans:
        p.volume_weight = p.volume_weight / mean_w
    mean_ft = float(np.mean([p.first_touch_min for p in plans]))
    mean_res = float(np.mean([p.resolution_hours for p in plans]))
    legacy_regions = (LEGACY_REGION,)
    plans.append(_WorkflowPlan(LEGACY_WORKFLOW_ID, LEGACY_SPEC, legacy_regions, None, 1.5, LEGACY_EXCEPTION_PCT,
                               mean_ft, mean_res, 1.0))

    class_codes = [c.code for c in register.exceptions.classes]
    class_sev = [c.sev for c in register.exceptions.classes]
    severities = sorted(register.aging_alerts.minutes_by_severity()) or sorted(set(class_sev))
    redact_fields = tuple(register.data_controls.redaction.fields)

    buf = _Buffer()
    stage_names = _Interner()
    actors = _Interner(("system",))
    errors = _Interner()
    exc_rows: dict[str, list[np.ndarray]] = {k: [] for k in ("run", "t", "stage", "wf", "person", "failure")}
    run_parts: list[dict[str, np.ndarray]] = []
    run_offset = 0
    for w, plan in enumerate(plans[:-1]):
        r = _simulate_workflow(rng_events, plan, w, days=days, runs_per_day=runs_per_day, start_ms=start_ms,
                               run_offset=run_offset, buf=buf, stage_names=stage_names, actors=actors,
                               errors=errors, exc_rows=exc_rows)
        run_parts.append(r)
        run_offset += len(r["start"])
    # legacy: ~0.5% of events (a legacy run emits ~6 events)
    n_registered_events = sum(len(a) for a in buf.parts["run"])
    legacy_runs = int(math.ceil(n_registered_events * LEGACY_EVENT_SHARE / 6.0)) if n_registered_events else 0
    r = _simulate_workflow(rng_events, plans[-1], len(plans) - 1, days=days, runs_per_day=runs_per_day,
                           start_ms=start_ms, run_offset=run_offset, buf=buf, stage_names=stage_names,
                           actors=actors, errors=errors, exc_rows=exc_rows, fixed_runs=legacy_runs)
    run_parts.append(r)
    run_offset += len(r["start"])
    n_runs = run_offset
    exc_info = _emit_exceptions(rng_events, exc_rows, plans, buf, actors, errors, class_codes, class_sev, severities)

    ev = buf.arrays()
    # nothing at or after the horizon
    keep = ev["t"] < horizon_ms
    ev = {k: v[keep] for k, v in ev.items()}
    canonical = np.lexsort((ev["seq"], ev["run"], ev["t"]))
    ev = {k: v[canonical] for k, v in ev.items()}
    n = len(ev["t"])

    runs_wf = np.concatenate([p["wf"] for p in run_parts]) if run_parts else np.empty(0, np.int32)
    runs_region_local = np.concatenate([p["region"] for p in run_parts]) if run_parts else np.empty(0, np.int32)
    runs_owner_null = np.concatenate([p["owner_null"] for p in run_parts]) if run_parts else np.empty(0, bool)
    # global region code per run
    region_names = _Interner()
    region_code_by_wf = [region_names.many(p.regions) for p in plans]
    runs_region = np.zeros(n_runs, dtype=np.int32)
    for w in range(len(plans)):
        m = runs_wf == w
        runs_region[m] = region_code_by_wf[w][runs_region_local[m]]
    owners = [p.owner for p in plans]
    owners[-1] = LEGACY_OWNER

    # ---- attributes: run-level objects on run_started; exception_raised carries a small object ----
    attr_texts: list[str | None] = [None] * n_runs
    offset = 0
    for w, part in enumerate(run_parts):
        k = len(part["start"])
        attr_texts[offset:offset + k] = _attributes_json(plans[w].spec.attributes, rng_events, k, offset, redact_fields)
        offset += k
    # hostile-but-valid strings: a few runs of the first workflow
    hostile_runs: list[int] = []
    first = np.nonzero(runs_wf == 0)[0]
    if len(first):
        pick = np.sort(rng_events.choice(first, size=min(len(first), 6), replace=False))
        hostile_runs = [int(x) for x in pick]
        for i, run in enumerate(hostile_runs[:3]):
            obj = json.loads(attr_texts[run]) if attr_texts[run] else {}
            obj.update(_HOSTILE_ATTRIBUTES[i % len(_HOSTILE_ATTRIBUTES)])
            attr_texts[run] = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    run_attr_arr = pa.array(attr_texts, pa.string())
    is_raise = ev["etype"] == _ET["exception_raised"]
    exc_attr_run = np.where(ev["attrs"] <= -2, -2 - ev["attrs"], -1)

    # hostile stage names on events of a few runs (every event of that run in the stage)
    stage_codes = ev["stage"].copy()
    for i, run in enumerate(hostile_runs[3:]):
        m = (ev["run"] == run) & (stage_codes >= 0)
        if m.any():
            target = stage_codes[m][0]
            stage_codes[m & (stage_codes == target)] = stage_names(_HOSTILE_STAGES[i % len(_HOSTILE_STAGES)])
    if hostile_runs:
        run = hostile_runs[0]
        m = (ev["run"] == run) & (stage_codes >= 0)
        if m.any():
            last = stage_codes[m][-1]
            stage_codes[m & (stage_codes == last)] = stage_names(_HOSTILE_STAGES[3])

    # ---- columns ----
    run_ids = _hex_ids("run_", _namespace(ns, "run"), np.arange(n_runs))
    n_exc = len(exc_info["cls"])
    exc_ids = _hex_ids("exc_", _namespace(ns, "exception"), np.arange(n_exc))
    event_ids = _hex_ids("evt_", _namespace(ns, "event"), np.arange(n))
    run_of = ev["run"]
    wf_of = runs_wf[run_of]

    def take(values, codes, null_mask=None):
        idx = pa.array(codes, pa.int64(), mask=(codes < 0) if null_mask is None else null_mask)
        return pc.take(pa.array(values, pa.string()) if not isinstance(values, pa.Array) else values, idx)

    wf_names = [p.workflow_id for p in plans]
    # timestamps: ~94% 'Z', ~3.5% explicit local offset, ~2.5% no offset (UTC)
    u = rng_events.random(n)
    style = np.where(u < 0.035, 1, np.where(u < 0.06, 2, 0))
    ev_region = runs_region[run_of]
    off_choice = rng_events.integers(0, 2, size=n)
    off_tab = np.array([_REGION_OFFSETS_MIN.get(r, (120, 120)) for r in region_names.values], dtype=np.int64)
    offsets = off_tab[ev_region, off_choice] if n else np.empty(0, np.int64)
    event_ts = _format_ts(ev["t"], offsets, style)

    owner_null = runs_owner_null[run_of] | (rng_events.random(n) < 0.01)
    owner_codes = np.where(owner_null, -1, wf_of)
    status_values = [_STATUS_BY_EVENT[e] for e in EVENT_TYPES]
    exc = ev["exc"]
    has_exc = exc >= 0
    exc_safe = np.where(has_exc, exc, 0)
    cls_codes = np.where(has_exc, exc_info["cls"][exc_safe] if n_exc else -1, -1)
    severity = np.where(has_exc, exc_info["sev"][exc_safe] if n_exc else 0, 0)

    attrs = pc.take(run_attr_arr, pa.array(np.where(ev["etype"] == _ET["run_started"], run_of, -1),
                                           pa.int64(), mask=ev["etype"] != _ET["run_started"]))
    if is_raise.any():
        # exception_raised: {"order_id"/first business key, "detail"} for ~60%
        raise_idx = np.nonzero(is_raise & (rng_events.random(n) < 0.6))[0]
        texts = attrs.to_pylist()
        for i in raise_idx:
            src = attr_texts[int(exc_attr_run[i])]
            obj = {}
            if src:
                key, val = next(iter(json.loads(src).items()))
                obj[key] = val
            obj["detail"] = "exception raised by " + wf_names[int(wf_of[i])]
            texts[i] = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        attrs = pa.array(texts, pa.string())

    columns = {
        "event_id": event_ids,
        "workflow_id": take(wf_names, wf_of.astype(np.int64)),
        "run_id": pc.take(run_ids, pa.array(run_of, pa.int64())),
        "event_type": take(list(EVENT_TYPES), ev["etype"].astype(np.int64)),
        "event_ts": event_ts,
        "region": take(region_names.values, ev_region.astype(np.int64)),
        "stage": take(stage_names.values, stage_codes.astype(np.int64)),
        "status": take(status_values, ev["etype"].astype(np.int64)),
        "owner": take(owners, owner_codes.astype(np.int64),
                      null_mask=owner_null | np.array([o is None for o in owners])[wf_of]),
        "duration_ms": pa.array(ev["duration"], pa.int64(), mask=ev["duration"] == _NULL_I64),
        "cost_cents": pa.array(ev["cost"], pa.float64(), mask=np.isnan(ev["cost"])),
        "confidence": pa.array(ev["conf"], pa.float64(), mask=np.isnan(ev["conf"])),
        "exception_id": pc.take(exc_ids, pa.array(exc_safe, pa.int64(), mask=~has_exc)),
        "exception_class": take(class_codes, cls_codes.astype(np.int64)),
        "severity": pa.array(severity.astype(np.int64), pa.int64(), mask=~has_exc),
        "actor": take(actors.values, ev["actor"].astype(np.int64)),
        "attempt": pa.array(ev["attempt"].astype(np.int64), pa.int64(), mask=ev["attempt"] == 0),
        "error_code": take(errors.values, ev["error"].astype(np.int64)),
        "attributes": attrs,
    }
    assert tuple(columns) == TELEMETRY_FIELDS
    table = pa.table(columns)

    # ---- late / out-of-order arrival: ~2% of events arrive minutes to hours late ----
    late = rng_events.random(n) < 0.02
    delay = np.where(late, (rng_events.exponential(20.0, n) * _MS_PER_MIN).astype(np.int64), 0)
    arrival_order = np.lexsort((np.arange(n), ev["t"] + delay))
    table = table.take(pa.array(arrival_order, pa.int64()))
    table = table.append_column(RAW_COLUMN, pa.nulls(n, pa.string()))

    if defect_rate > 0 and n > 0:
        table = _inject_defects(table, rng_defects, defect_rate, fmt, ns)
    return table.replace_schema_metadata({FMT_METADATA_KEY: fmt.encode()})


# --------------------------------------------------------------------------------------------------
# Defects
# --------------------------------------------------------------------------------------------------

_UNPARSEABLE_TS = ("2026-13-45T25:61:00Z", "not-a-timestamp", "20/11/2026 13:45", "yesterday at noon",
                   "2026-11-31T10:00:00Z", "T12:00:00Z")
_UNKNOWN_EVENT_TYPES = ("run_paused", "stage_skipped", "workflow.started", "heartbeat")
_NOT_OBJECT_ATTRIBUTES = ('["not","an","object"]', '"just a string"', "42")
_WRONG_TYPE = (("duration_ms", "abc"), ("cost_cents", "12.5 cents"), ("confidence", "high"),
               ("severity", "sev1"), ("attempt", "two"))
_BAD_IDENTIFIERS = ("run_" + "x" * 300, "run_bad\x07bell", "wf\tcontrol")


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), values)


def _inject_defects(table: pa.Table, rng: np.random.Generator, defect_rate: float, fmt: str,
                    ns: np.uint64) -> pa.Table:
    n = table.num_rows
    kinds = DEFECT_KINDS[fmt]
    total = max(int(round(defect_rate * n)), len(kinds))
    per_kind = np.full(len(kinds), total // len(kinds))
    per_kind[: total % len(kinds)] += 1
    etype = table.column("event_type").to_numpy(zero_copy_only=False)
    is_exc = np.isin(etype, list(EXCEPTION_EVENT_TYPES))
    has_dur = table.column("duration_ms").is_valid().to_numpy(zero_copy_only=False)
    has_cost = table.column("cost_cents").is_valid().to_numpy(zero_copy_only=False)
    pieces: list[pa.Table] = []
    positions: list[np.ndarray] = []
    def_counter = 0
    for kind, k in zip(kinds, per_kind, strict=True):
        k = int(k)
        if kind == "missing_exception_id" and is_exc.any():
            pool = np.nonzero(is_exc)[0]
        elif kind == "negative_duration_ms" and has_dur.any():
            pool = np.nonzero(has_dur)[0]
        elif kind == "negative_cost_cents" and has_cost.any():
            pool = np.nonzero(has_cost)[0]
        else:
            pool = np.arange(n)
        src = np.sort(rng.choice(pool, size=k, replace=len(pool) < k))
        rows = table.take(pa.array(src, pa.int64()))
        if kind != "duplicate_event_id":
            rows = _set(rows, "event_id", _hex_ids("evt_", _namespace(ns, "defect"), np.arange(def_counter, def_counter + k)))
            def_counter += k
        alt = np.arange(k)
        if kind.startswith("missing_") and kind != "missing_exception_id":
            fname = kind[len("missing_"):]
            # half absent (null), half blank
            rows = _set(rows, fname, pa.array([None if i % 2 == 0 else ("" if i % 4 == 1 else "   ") for i in alt],
                                              pa.string()))
        elif kind == "invalid_identifier":
            vals = [_BAD_IDENTIFIERS[i % len(_BAD_IDENTIFIERS)] for i in alt]
            col = rows.column("run_id").to_pylist()
            wcol = rows.column("workflow_id").to_pylist()
            for i, v in enumerate(vals):
                if v.startswith("wf"):
                    wcol[i] = v
                else:
                    col[i] = v
            rows = _set(_set(rows, "run_id", pa.array(col, pa.string())), "workflow_id", pa.array(wcol, pa.string()))
        elif kind == "unparseable_timestamp":
            rows = _set(rows, "event_ts", pa.array([_UNPARSEABLE_TS[i % len(_UNPARSEABLE_TS)] for i in alt], pa.string()))
        elif kind == "unknown_event_type":
            rows = _set(rows, "event_type",
                        pa.array([_UNKNOWN_EVENT_TYPES[i % len(_UNKNOWN_EVENT_TYPES)] for i in alt], pa.string()))
        elif kind == "invalid_type_attributes":
            rows = _set(rows, "attributes",
                        pa.array([_NOT_OBJECT_ATTRIBUTES[i % len(_NOT_OBJECT_ATTRIBUTES)] for i in alt], pa.string()))
        elif kind == "negative_duration_ms":
            d = rows.column("duration_ms").fill_null(1000).to_numpy()
            rows = _set(rows, "duration_ms", pa.array(-np.maximum(np.abs(d), 1), pa.int64()))
        elif kind == "negative_cost_cents":
            c = rows.column("cost_cents").fill_null(1.0).to_numpy()
            rows = _set(rows, "cost_cents", pa.array(-np.maximum(np.abs(c), 0.01), pa.float64()))
        elif kind == "confidence_out_of_range":
            rows = _set(rows, "confidence", pa.array(np.round(1.0 + rng.uniform(0.01, 90.0, k), 4), pa.float64()))
        elif kind == "missing_exception_id":
            rows = _set(rows, "exception_id", pa.nulls(k, pa.string()))
        elif kind == "future_timestamp":
            ts = rows.column("event_ts").to_pylist()
            rows = _set(rows, "event_ts", pa.array(
                ["2099" + (t[4:].replace("-02-29", "-02-28") if t and len(t) > 4 and t[:4].isdigit()
                           else "-06-01T12:00:00.000Z") for t in ts],
                pa.string()))
        elif kind == "invalid_type_number":
            raws = []
            for i in alt:
                fname, text = _WRONG_TYPE[i % len(_WRONG_TYPE)]
                one = rows.slice(int(i), 1).drop_columns([RAW_COLUMN])
                one = _set_typed(one, fname, pa.array([text], pa.string()))
                raws.append(_serialize(one, fmt)[0])
            rows = _set(rows, RAW_COLUMN, pa.array(raws, pa.string()))
        elif kind == "malformed_json":
            raws = []
            lines = _serialize(rows.drop_columns([RAW_COLUMN]), "jsonl")
            for i, line in zip(alt, lines, strict=True):
                if i % 4 == 3:
                    raws.append('["not", "a", "json", "object"]')
                else:
                    raws.append(line[: max(len(line) * 2 // 3, 10)])
            rows = _set(rows, RAW_COLUMN, pa.array(raws, pa.string()))
        # position: duplicates strictly after their original, others anywhere after the source
        lo = src + (1 if kind == "duplicate_event_id" else 0)
        pos = lo + (rng.random(k) * (n - lo + (0 if kind == "duplicate_event_id" else 1))).astype(np.int64)
        pos = np.minimum(pos, n)
        pieces.append(rows)
        positions.append(pos)
    extra = pa.concat_tables(pieces)
    pos = np.concatenate(positions)
    # base row i has key 2*i; an extra row inserted before base row p has key 2*p - 1 (p == n: at the end)
    keys = np.concatenate([2 * np.arange(n, dtype=np.int64), 2 * pos - 1 + (pos == n)])
    order = np.lexsort((np.arange(len(keys)), keys))
    return pa.concat_tables([table, extra]).take(pa.array(order, pa.int64()))


def _set_typed(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """Replace a column with values of another type (the schema field changes type too)."""
    i = table.schema.get_field_index(name)
    return table.set_column(i, pa.field(name, values.type), values)


# --------------------------------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------------------------------

_NEEDS_JSON_ESCAPE = r'["\\\x00-\x1f]'
_NEEDS_CSV_QUOTE = r'[",\r\n]|^$|^\s|\s$'


def _json_string_values(arr: pa.Array) -> pa.Array:
    """JSON string literals for a string array (null stays null)."""
    arr = arr.cast(pa.string())
    needs = pc.fill_null(pc.match_substring_regex(arr, _NEEDS_JSON_ESCAPE), False)
    simple = pc.binary_join_element_wise(pa.scalar('"'), arr, pa.scalar('"'), "")
    if not pc.any(needs).as_py():
        return simple
    escaped = [json.dumps(v, ensure_ascii=False) for v in arr.filter(needs).to_pylist()]
    return pc.replace_with_mask(simple, needs, pa.array(escaped, pa.string()))


def _number_text(arr: pa.Array) -> pa.Array:
    return pc.cast(arr, pa.string())


def _serialize(table: pa.Table, fmt: str) -> list[str]:
    """Lines (without terminator) for a small table; used for raw defect rows."""
    lines = _lines(table, fmt)
    return lines.to_pylist()


def _lines(table: pa.Table, fmt: str) -> pa.Array:
    table = table.combine_chunks()
    if fmt == "jsonl":
        frags = []
        for name in table.column_names:
            col = table.column(name).combine_chunks() if table.num_rows else pa.array([], table.schema.field(name).type)
            typ = col.type
            if name in JSON_COLUMNS and pa.types.is_string(typ):
                val = col
            elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
                val = _json_string_values(col)
            else:
                val = _number_text(col)
            frags.append(pc.binary_join_element_wise(pa.scalar(json.dumps(name) + ":"), val, ""))
        body = pc.binary_join_element_wise(*frags, ",", null_handling="skip") if frags else None
        return pc.binary_join_element_wise(pa.scalar("{"), pc.fill_null(body, ""), pa.scalar("}"), "")
    if fmt == "csv":
        frags = []
        for name in table.column_names:
            col = table.column(name).combine_chunks() if table.num_rows else pa.array([], table.schema.field(name).type)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                needs = pc.fill_null(pc.match_substring_regex(col, _NEEDS_CSV_QUOTE), False)
                quoted = pc.binary_join_element_wise(pa.scalar('"'), pc.replace_substring(col, '"', '""'),
                                                     pa.scalar('"'), "")
                val = pc.if_else(needs, quoted, col)
            else:
                val = _number_text(col)
            frags.append(pc.fill_null(val, ""))
        return pc.binary_join_element_wise(*frags, ",")
    raise ValueError(f"no line serialisation for {fmt!r}")


def _csv_header(names: list[str]) -> str:
    return ",".join(f'"{n}"' if any(c in n for c in ',"\r\n') else n for n in names)


def _visible(table: pa.Table) -> pa.Table:
    hidden = [c for c in table.column_names if c.startswith("_")]
    return table.drop_columns(hidden).replace_schema_metadata(None)


def _rows_for(table: pa.Table, fmt: str) -> tuple[pa.Table, pa.Array | None]:
    """Drop raw rows rendered for another format; return (visible table, raw column or None)."""
    if RAW_COLUMN not in table.column_names:
        return _visible(table), None
    raw = table.column(RAW_COLUMN)
    if raw.null_count == len(raw):
        return _visible(table), None
    meta = table.schema.metadata or {}
    if meta.get(FMT_METADATA_KEY, b"").decode() == fmt and fmt != "parquet":
        return _visible(table), raw.combine_chunks()
    keep = raw.is_null()
    return _visible(table.filter(keep)), None


def write_events(table: pa.Table, path: Path, fmt: str) -> int:
    """Write ``table`` (from generate_events or generate_minimal_log) to ``path``; returns rows written.

    JSONL: one compact JSON object per line, keys in column order, null keys omitted, attributes nested;
    CSV: header row, comma, RFC 4180 quoting only where needed (null -> empty, empty string -> ""),
    attributes as JSON text; Parquet: typed columns, attributes as JSON text. UTF-8, '\\n' line ends.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    visible, raw = _rows_for(table, fmt)
    if fmt == "parquet":
        pq.write_table(visible, path, compression="zstd", row_group_size=256 * 1024)
        return visible.num_rows
    n = visible.num_rows
    with open(path, "wb") as fh:
        if fmt == "csv":
            fh.write((_csv_header(visible.column_names) + "\n").encode("utf-8"))
        step = 200_000
        for lo in range(0, n, step):
            part = visible.slice(lo, step)
            lines = _lines(part, fmt)
            if raw is not None:
                lines = pc.if_else(raw.slice(lo, step).is_valid(), raw.slice(lo, step), lines)
            lines = pc.binary_join_element_wise(lines, pa.scalar("\n"), "")
            lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset: lines.offset + len(lines) + 1]
            data = lines.buffers()[2]
            fh.write(memoryview(data)[offsets[0]: offsets[-1]])
    return n


# --------------------------------------------------------------------------------------------------
# Minimal event log (seed 001)
# --------------------------------------------------------------------------------------------------

_CHANNELS = ("web", "mobile_app", "marketplace", "phone")
_LOCATIONS = ("DC-ATL", "DC-DAL", "DC-RTM", "DC-SYD")
#: The region each distribution centre runs in (the case's region, on every event of the case).
_LOCATION_REGIONS = ("us-east-1", "us-east-1", "eu-west-1", "ap-southeast-2")


def generate_minimal_log(*, days: int, cases_per_day: int, seed: int, end_date: date) -> pa.Table:
    """An order-to-ship minimum viable event log: case_id, event_name, timestamp, actor + optional
    channel, location, region, amount, reason_code. Loops: payment retries, waiting for inventory, re-picks and
    label reprints. Timestamps are ISO 8601 UTC text ('...Z'); nothing at or after end_date 00:00 UTC."""
    if isinstance(end_date, datetime):
        end_date = end_date.date()
    if days < 1:
        raise ValueError("days must be at least 1")
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32 & 0xFFFFFFFF, 2])
    rng = np.random.default_rng(ss)
    horizon = _epoch_ms(end_date)
    start_ms = _epoch_ms(end_date - timedelta(days=days))
    n = int(rng.poisson(cases_per_day * days)) if cases_per_day > 0 else 0
    t0 = start_ms + np.sort(rng.integers(0, days * 86_400_000, size=n))
    case_ids = _hex_ids("ORD-", _namespace("minimal-v1", seed, days, cases_per_day, end_date.isoformat()),
                        np.arange(n)).to_pylist()
    channel = rng.integers(0, len(_CHANNELS), n)
    location = rng.integers(0, len(_LOCATIONS), n)
    amount = np.round(_lognormal(rng, 85.0, 0.8, n), 2)
    u = rng.random((n, 8))
    gaps = rng.lognormal(0.0, 0.7, (n, 12))
    cases, names, times, actors, chans, locs, regions, amts, reasons = [], [], [], [], [], [], [], [], []
    for i in range(n):
        case = case_ids[i]
        t = int(t0[i])
        g = iter(gaps[i])
        steps: list[tuple[str, int, str, float | None, str | None]] = [("order_received", t, "system", float(amount[i]), None)]

        def after(minutes: float, steps=steps, g=g) -> int:  # bound to this case's steps and gaps
            return steps[-1][1] + int(minutes * next(g) * _MS_PER_MIN)

        if u[i, 0] < 0.06:  # payment declined then captured (loop)
            steps.append(("payment_failed", after(2), "payment_gateway", float(amount[i]), "CARD_DECLINED"))
            steps.append(("payment_captured", after(25), "billing_agent", float(amount[i]), None))
        else:
            steps.append(("payment_captured", after(3), "payment_gateway", float(amount[i]), None))
        if u[i, 1] < 0.18:
            steps.append(("awaiting_inventory", after(5), "system", None, "OUT_OF_STOCK"))
            steps.append(("picked", after(150), "warehouse_picker", None, None))
        else:
            steps.append(("picked", after(45), "warehouse_picker", None, None))
        steps.append(("packed", after(20), "warehouse_packer", None, None))
        if u[i, 2] < 0.04:  # damaged at pack: re-pick and re-pack (rework)
            steps.append(("picked", after(30), "warehouse_picker", None, "DAMAGED_ITEM"))
            steps.append(("packed", after(20), "warehouse_packer", None, None))
        steps.append(("label_printed", after(10), "system", None, None))
        if u[i, 3] < 0.05:  # label reprint
            steps.append(("label_printed", after(15), "warehouse_packer", None, "PRINTER_JAM"))
        steps.append(("shipped", after(90), "carrier_api", None, None))
        for name, ts, actor, amt, reason in steps:
            if ts >= horizon:
                break
            cases.append(case)
            names.append(name)
            times.append(ts)
            actors.append(actor)
            chans.append(_CHANNELS[channel[i]] if name == "order_received" or u[i, 4] < 0.5 else None)
            locs.append(None if name in ("order_received", "payment_captured", "payment_failed") else _LOCATIONS[location[i]])
            regions.append(_LOCATION_REGIONS[location[i]])
            amts.append(amt)
            reasons.append(reason)
    times_arr = np.array(times, dtype=np.int64)
    order = np.lexsort((np.arange(len(times_arr)), times_arr))
    ts_text = np.char.add(_iso_ms(times_arr), "Z") if len(times_arr) else np.array([], dtype=str)

    def col(values, typ=None):
        return pa.array([values[j] for j in order], typ or pa.string())

    table = pa.table({
        "case_id": col(cases),
        "event_name": col(names),
        "timestamp": pa.array(ts_text[order] if len(times_arr) else [], pa.string()),
        "actor": col(actors),
        "channel": col(chans),
        "location": col(locs),
        "region": col(regions),
        "amount": col(amts, pa.float64()),
        "reason_code": col(reasons),
    })
    assert tuple(table.column_names) == MINIMAL_FIELDS
    return table
