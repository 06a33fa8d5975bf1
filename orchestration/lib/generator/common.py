"""Shared pieces of the generator: constants, deterministic ids, timestamps, interning, draws."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lib.contract import EVENT_TYPES

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
RAW_COLUMN = "_raw"
FMT_METADATA_KEY = b"generator.fmt"
#: Columns whose values are JSON objects (nested in JSONL, JSON text in CSV and Parquet).
JSON_COLUMNS: frozenset[str] = frozenset({"attributes"})
#: The columns of the generated minimal event log, in order (the contract's minimal fields plus optional ones).
MINIMAL_LOG_COLUMNS: tuple[str, ...] = (
    "case_id", "event_name", "timestamp", "actor", "channel", "location", "region", "amount", "reason_code",
)

#: event type -> code (its position in the contract)
ET = {name: i for i, name in enumerate(EVENT_TYPES)}
STATUS_BY_EVENT = {
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

MS_PER_HOUR = 3_600_000
MS_PER_MIN = 60_000
MS_PER_DAY = 86_400_000


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")


# ------------------------------------------------------------------------------------------------
# Deterministic ids
# ------------------------------------------------------------------------------------------------


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 (distinct inputs give distinct outputs)."""
    z = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def namespace(*parts: object) -> np.uint64:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return np.uint64(int.from_bytes(digest[:8], "big"))


def hex_ids(prefix: str, ns: np.uint64, counters: np.ndarray) -> pa.Array:
    """``prefix`` + 16 hex digits, unique per counter within a namespace."""
    counters = np.asarray(counters, dtype=np.uint64)
    with np.errstate(over="ignore"):
        vals = mix64(counters + ns)
    if len(vals) == 0:
        return pa.array([], pa.string())
    hexed = vals.astype(">u8").tobytes().hex().encode("ascii")
    arr = pa.array(np.frombuffer(hexed, dtype="S16"), pa.binary(16)).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), arr, "")


def rng_seed(seed: int, stream: int) -> np.random.SeedSequence:
    """The seed sequence of one generator stream (1: telemetry events, 2: the minimal log)."""
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32 & 0xFFFFFFFF, stream])


# ------------------------------------------------------------------------------------------------
# Timestamps
# ------------------------------------------------------------------------------------------------


def epoch_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def iso_ms(ms: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DDTHH:MM:SS.mmm' (no zone) for epoch milliseconds."""
    return np.datetime_as_string(np.asarray(ms, dtype="int64").astype("datetime64[ms]"), unit="ms")


def format_ts(ms: np.ndarray, offsets_min: np.ndarray, style: np.ndarray) -> pa.Array:
    """style 0: '...Z'; 1: local time with an explicit '+HH:MM' offset; 2: no offset (meaning UTC)."""
    ms = np.asarray(ms, dtype=np.int64)
    if len(ms) == 0:
        return pa.array([], pa.string())
    off = np.where(style == 1, offsets_min, 0).astype(np.int64)
    base = pa.array(iso_ms(ms + off * MS_PER_MIN).astype(object), pa.string())
    uniq = np.unique(off[style == 1])
    suffixes = ["Z", ""] + [f"{'-' if o < 0 else '+'}{abs(o) // 60:02d}:{abs(o) % 60:02d}" for o in uniq.tolist()]
    code = np.where(style == 0, 0, np.where(style == 2, 1, 2 + np.searchsorted(uniq, off)))
    return pc.binary_join_element_wise(base, pc.take(pa.array(suffixes, pa.string()), pa.array(code, pa.int64())), "")


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------


class Interner:
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


def lognormal(rng: np.random.Generator, median: float, sigma: float, size) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(size))


def compact_json(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
