"""Defect injection: copies of real rows broken one way each (the landing must quarantine every one).

Each defect kind has one function that breaks a batch of copied rows. Format-specific kinds
(``invalid_type_number``, ``malformed_json``) put the whole rendered line in the hidden raw column,
because a typed column cannot hold text.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from orchestration.lib.contract import EXCEPTION_EVENT_TYPES, REQUIRED_FIELDS
from orchestration.lib.generator.common import RAW_COLUMN, hex_ids, namespace
from orchestration.lib.generator.writers import serialize

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


def _set_typed(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """Replace a column with values of another type (the schema field changes type too)."""
    i = table.schema.get_field_index(name)
    return table.set_column(i, pa.field(name, values.type), values)


def _cycle(values: tuple[str, ...], k: int) -> pa.Array:
    return pa.array([values[i % len(values)] for i in range(k)], pa.string())


# ------------------------------------------------------------------------------------------------
# One function per defect kind: (rows, rng, fmt) -> broken rows
# ------------------------------------------------------------------------------------------------


def _missing(fname: str) -> Callable:
    def breaker(rows: pa.Table, rng, fmt: str) -> pa.Table:
        # half absent (null), half blank
        k = rows.num_rows
        return _set(rows, fname, pa.array([None if i % 2 == 0 else ("" if i % 4 == 1 else "   ") for i in range(k)],
                                          pa.string()))
    return breaker


def _invalid_identifier(rows, rng, fmt):
    col = rows.column("run_id").to_pylist()
    wcol = rows.column("workflow_id").to_pylist()
    for i in range(rows.num_rows):
        v = _BAD_IDENTIFIERS[i % len(_BAD_IDENTIFIERS)]
        if v.startswith("wf"):
            wcol[i] = v
        else:
            col[i] = v
    return _set(_set(rows, "run_id", pa.array(col, pa.string())), "workflow_id", pa.array(wcol, pa.string()))


def _unparseable_timestamp(rows, rng, fmt):
    return _set(rows, "event_ts", _cycle(_UNPARSEABLE_TS, rows.num_rows))


def _unknown_event_type(rows, rng, fmt):
    return _set(rows, "event_type", _cycle(_UNKNOWN_EVENT_TYPES, rows.num_rows))


def _invalid_type_attributes(rows, rng, fmt):
    return _set(rows, "attributes", _cycle(_NOT_OBJECT_ATTRIBUTES, rows.num_rows))


def _negative_duration_ms(rows, rng, fmt):
    d = rows.column("duration_ms").fill_null(1000).to_numpy()
    return _set(rows, "duration_ms", pa.array(-np.maximum(np.abs(d), 1), pa.int64()))


def _negative_cost_cents(rows, rng, fmt):
    c = rows.column("cost_cents").fill_null(1.0).to_numpy()
    return _set(rows, "cost_cents", pa.array(-np.maximum(np.abs(c), 0.01), pa.float64()))


def _confidence_out_of_range(rows, rng, fmt):
    return _set(rows, "confidence", pa.array(np.round(1.0 + rng.uniform(0.01, 90.0, rows.num_rows), 4), pa.float64()))


def _missing_exception_id(rows, rng, fmt):
    return _set(rows, "exception_id", pa.nulls(rows.num_rows, pa.string()))


def _future(t: str | None) -> str:
    if t and len(t) > 4 and t[:4].isdigit():
        return "2099" + t[4:].replace("-02-29", "-02-28")
    return "2099-06-01T12:00:00.000Z"


def _future_timestamp(rows, rng, fmt):
    return _set(rows, "event_ts", pa.array([_future(t) for t in rows.column("event_ts").to_pylist()], pa.string()))


def _invalid_type_number(rows, rng, fmt):
    raws = []
    for i in range(rows.num_rows):
        fname, text = _WRONG_TYPE[i % len(_WRONG_TYPE)]
        one = rows.slice(i, 1).drop_columns([RAW_COLUMN])
        one = _set_typed(one, fname, pa.array([text], pa.string()))
        raws.append(serialize(one, fmt)[0])
    return _set(rows, RAW_COLUMN, pa.array(raws, pa.string()))


def _malformed_json(rows, rng, fmt):
    raws = []
    lines = serialize(rows.drop_columns([RAW_COLUMN]), "jsonl")
    for i, line in enumerate(lines):
        raws.append('["not", "a", "json", "object"]' if i % 4 == 3 else line[: max(len(line) * 2 // 3, 10)])
    return _set(rows, RAW_COLUMN, pa.array(raws, pa.string()))


def _duplicate_event_id(rows, rng, fmt):
    return rows  # an exact copy, placed after its original


BREAKERS: dict[str, Callable] = {
    **{f"missing_{f}": _missing(f) for f in REQUIRED_FIELDS},
    "invalid_identifier": _invalid_identifier,
    "unparseable_timestamp": _unparseable_timestamp,
    "unknown_event_type": _unknown_event_type,
    "invalid_type_attributes": _invalid_type_attributes,
    "negative_duration_ms": _negative_duration_ms,
    "negative_cost_cents": _negative_cost_cents,
    "confidence_out_of_range": _confidence_out_of_range,
    "missing_exception_id": _missing_exception_id,
    "future_timestamp": _future_timestamp,
    "invalid_type_number": _invalid_type_number,
    "malformed_json": _malformed_json,
    "duplicate_event_id": _duplicate_event_id,
}


# ------------------------------------------------------------------------------------------------
# Choosing rows and placing the broken copies
# ------------------------------------------------------------------------------------------------


def _per_kind(n: int, defect_rate: float, kinds: tuple[str, ...]) -> np.ndarray:
    """At least one row per kind; the total ``defect_rate`` of the rows, spread evenly."""
    total = max(int(round(defect_rate * n)), len(kinds))
    per_kind = np.full(len(kinds), total // len(kinds))
    per_kind[: total % len(kinds)] += 1
    return per_kind


def _pools(table: pa.Table) -> dict[str, np.ndarray]:
    """Rows a kind must copy from (exception events, rows with a duration or a cost), when there are any."""
    etype = table.column("event_type").to_numpy(zero_copy_only=False)
    masks = {
        "missing_exception_id": np.isin(etype, list(EXCEPTION_EVENT_TYPES)),
        "negative_duration_ms": table.column("duration_ms").is_valid().to_numpy(zero_copy_only=False),
        "negative_cost_cents": table.column("cost_cents").is_valid().to_numpy(zero_copy_only=False),
    }
    return {kind: np.nonzero(m)[0] for kind, m in masks.items() if m.any()}


def _positions(rng, src: np.ndarray, n: int, duplicate: bool) -> np.ndarray:
    """Where the copies go: duplicates strictly after their original, others anywhere after the source."""
    lo = src + (1 if duplicate else 0)
    pos = lo + (rng.random(len(src)) * (n - lo + (0 if duplicate else 1))).astype(np.int64)
    return np.minimum(pos, n)


def inject_defects(table: pa.Table, rng: np.random.Generator, defect_rate: float, fmt: str,
                   ns: np.uint64) -> pa.Table:
    """Insert ``defect_rate`` x rows broken copies (every kind of ``fmt`` at least once)."""
    n = table.num_rows
    kinds = DEFECT_KINDS[fmt]
    pools = _pools(table)
    pieces: list[pa.Table] = []
    positions: list[np.ndarray] = []
    def_counter = 0
    for kind, k in zip(kinds, _per_kind(n, defect_rate, kinds), strict=True):
        k = int(k)
        pool = pools.get(kind, np.arange(n))
        src = np.sort(rng.choice(pool, size=k, replace=len(pool) < k))
        rows = table.take(pa.array(src, pa.int64()))
        if kind != "duplicate_event_id":
            rows = _set(rows, "event_id", hex_ids("evt_", namespace(ns, "defect"), np.arange(def_counter, def_counter + k)))
            def_counter += k
        pieces.append(BREAKERS[kind](rows, rng, fmt))
        positions.append(_positions(rng, src, n, kind == "duplicate_event_id"))
    extra = pa.concat_tables(pieces)
    pos = np.concatenate(positions)
    # base row i has key 2*i; an extra row inserted before base row p has key 2*p - 1 (p == n: at the end)
    keys = np.concatenate([2 * np.arange(n, dtype=np.int64), 2 * pos - 1 + (pos == n)])
    order = np.lexsort((np.arange(len(keys)), keys))
    return pa.concat_tables([table, extra]).take(pa.array(order, pa.int64()))
