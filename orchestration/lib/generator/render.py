"""Event rendering: simulated event columns -> the contract's telemetry table (ids, timestamps, text)."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lib.contract import EVENT_TYPES, TELEMETRY_FIELDS
from orchestration.lib.generator.attributes import add_hostile_attributes, attributes_json
from orchestration.lib.generator.common import (
    ET,
    MS_PER_MIN,
    RAW_COLUMN,
    STATUS_BY_EVENT,
    Interner,
    compact_json,
    format_ts,
    hex_ids,
    namespace,
)
from orchestration.lib.generator.simulate import NULL_I64, Sim, WorkflowPlan

#: plausible local offsets for the "explicit offset" timestamps
REGION_OFFSETS_MIN = {
    "us-east-1": (-300, -240),
    "eu-west-1": (0, 60),
    "ap-southeast-2": (600, 660),
}
HOSTILE_STAGES = (
    'pick, pack & "ship"',
    "label\nprint (retry)",
    "vérification ✓ 検査 — étape",
    "stage'; drop table x; --",
)


def canonical_events(sim: Sim, horizon_ms: int) -> dict[str, np.ndarray]:
    """The buffer's events before the horizon, ordered by time, run and sequence."""
    ev = sim.buf.arrays()
    keep = ev["t"] < horizon_ms
    ev = {k: v[keep] for k, v in ev.items()}
    canonical = np.lexsort((ev["seq"], ev["run"], ev["t"]))
    return {k: v[canonical] for k, v in ev.items()}


def run_columns(run_parts: list[dict[str, np.ndarray]], plans: list[WorkflowPlan]) -> dict:
    """Per run: workflow code, global region code, owner gap; plus the region names."""
    runs_wf = np.concatenate([p["wf"] for p in run_parts]) if run_parts else np.empty(0, np.int32)
    region_local = np.concatenate([p["region"] for p in run_parts]) if run_parts else np.empty(0, np.int32)
    owner_null = np.concatenate([p["owner_null"] for p in run_parts]) if run_parts else np.empty(0, bool)
    region_names = Interner()
    region_code_by_wf = [region_names.many(p.regions) for p in plans]
    runs_region = np.zeros(len(runs_wf), dtype=np.int32)
    for w in range(len(plans)):
        m = runs_wf == w
        runs_region[m] = region_code_by_wf[w][region_local[m]]
    return {"wf": runs_wf, "region": runs_region, "owner_null": owner_null, "region_names": region_names}


def run_attributes(rng, run_parts, plans: list[WorkflowPlan], runs_wf: np.ndarray,
                   redact_fields: tuple[str, ...]) -> tuple[list[str | None], list[int]]:
    """Run-level attribute objects (JSON text) and the runs picked to carry hostile strings."""
    n_runs = len(runs_wf)
    attr_texts: list[str | None] = [None] * n_runs
    offset = 0
    for w, part in enumerate(run_parts):
        k = len(part["start"])
        attr_texts[offset:offset + k] = attributes_json(plans[w].spec.attributes, rng, k, offset, redact_fields)
        offset += k
    # hostile-but-valid strings: a few runs of the first workflow
    hostile_runs: list[int] = []
    first = np.nonzero(runs_wf == 0)[0]
    if len(first):
        pick = np.sort(rng.choice(first, size=min(len(first), 6), replace=False))
        hostile_runs = [int(x) for x in pick]
        add_hostile_attributes(attr_texts, hostile_runs[:3])
    return attr_texts, hostile_runs


def hostile_stage_codes(ev: dict, hostile_runs: list[int], stage_names: Interner) -> np.ndarray:
    """Stage codes with hostile stage names on the events of a few runs (every event of that run in the stage)."""
    stage_codes = ev["stage"].copy()
    for i, run in enumerate(hostile_runs[3:]):
        m = (ev["run"] == run) & (stage_codes >= 0)
        if m.any():
            target = stage_codes[m][0]
            stage_codes[m & (stage_codes == target)] = stage_names(HOSTILE_STAGES[i % len(HOSTILE_STAGES)])
    if hostile_runs:
        run = hostile_runs[0]
        m = (ev["run"] == run) & (stage_codes >= 0)
        if m.any():
            last = stage_codes[m][-1]
            stage_codes[m & (stage_codes == last)] = stage_names(HOSTILE_STAGES[3])
    return stage_codes


def _take(values, codes, null_mask=None):
    idx = pa.array(codes, pa.int64(), mask=(codes < 0) if null_mask is None else null_mask)
    return pc.take(pa.array(values, pa.string()) if not isinstance(values, pa.Array) else values, idx)


def event_timestamps(rng, ev: dict, ev_region: np.ndarray, region_names: Interner) -> pa.Array:
    """~94% 'Z', ~3.5% explicit local offset, ~2.5% no offset (UTC)."""
    n = len(ev["t"])
    u = rng.random(n)
    style = np.where(u < 0.035, 1, np.where(u < 0.06, 2, 0))
    off_choice = rng.integers(0, 2, size=n)
    off_tab = np.array([REGION_OFFSETS_MIN.get(r, (120, 120)) for r in region_names.values], dtype=np.int64)
    offsets = off_tab[ev_region, off_choice] if n else np.empty(0, np.int64)
    return format_ts(ev["t"], offsets, style)


def event_attributes(rng, ev: dict, attr_texts: list[str | None], wf_names: list[str], wf_of) -> pa.Array:
    """attributes: the run's object on run_started; {first business key, detail} on ~60% of exception_raised."""
    n = len(ev["t"])
    run_of = ev["run"]
    is_start = ev["etype"] == ET["run_started"]
    attrs = pc.take(pa.array(attr_texts, pa.string()),
                    pa.array(np.where(is_start, run_of, -1), pa.int64(), mask=~is_start))
    is_raise = ev["etype"] == ET["exception_raised"]
    if not is_raise.any():
        return attrs
    exc_attr_run = np.where(ev["attrs"] <= -2, -2 - ev["attrs"], -1)
    raise_idx = np.nonzero(is_raise & (rng.random(n) < 0.6))[0]
    texts = attrs.to_pylist()
    for i in raise_idx:
        src = attr_texts[int(exc_attr_run[i])]
        obj = {}
        if src:
            key, val = next(iter(json.loads(src).items()))
            obj[key] = val
        obj["detail"] = "exception raised by " + wf_names[int(wf_of[i])]
        texts[i] = compact_json(obj)
    return pa.array(texts, pa.string())


def telemetry_table(rng, sim: Sim, ev: dict, runs: dict, plans: list[WorkflowPlan], exc_info: dict,
                    attr_texts: list[str | None], stage_codes: np.ndarray, class_codes: list[str],
                    ns: np.uint64, owners: list[str | None]) -> pa.Table:
    """The contract's columns, in order (draws: timestamps, owner gaps, then exception attributes)."""
    n = len(ev["t"])
    n_exc = len(exc_info["cls"])
    run_ids = hex_ids("run_", namespace(ns, "run"), np.arange(len(runs["wf"])))
    exc_ids = hex_ids("exc_", namespace(ns, "exception"), np.arange(n_exc))
    run_of = ev["run"]
    wf_of = runs["wf"][run_of]
    wf_names = [p.workflow_id for p in plans]
    ev_region = runs["region"][run_of]
    event_ts = event_timestamps(rng, ev, ev_region, runs["region_names"])
    owner_null = runs["owner_null"][run_of] | (rng.random(n) < 0.01)
    owner_codes = np.where(owner_null, -1, wf_of)
    exc = ev["exc"]
    has_exc = exc >= 0
    exc_safe = np.where(has_exc, exc, 0)
    cls_codes = np.where(has_exc, exc_info["cls"][exc_safe] if n_exc else -1, -1)
    severity = np.where(has_exc, exc_info["sev"][exc_safe] if n_exc else 0, 0)
    etype = ev["etype"].astype(np.int64)
    columns = {
        "event_id": hex_ids("evt_", namespace(ns, "event"), np.arange(n)),
        "workflow_id": _take(wf_names, wf_of.astype(np.int64)),
        "run_id": pc.take(run_ids, pa.array(run_of, pa.int64())),
        "event_type": _take(list(EVENT_TYPES), etype),
        "event_ts": event_ts,
        "region": _take(runs["region_names"].values, ev_region.astype(np.int64)),
        "stage": _take(sim.stage_names.values, stage_codes.astype(np.int64)),
        "status": _take([STATUS_BY_EVENT[e] for e in EVENT_TYPES], etype),
        "owner": _take(owners, owner_codes.astype(np.int64),
                       null_mask=owner_null | np.array([o is None for o in owners])[wf_of]),
        "duration_ms": pa.array(ev["duration"], pa.int64(), mask=ev["duration"] == NULL_I64),
        "cost_cents": pa.array(ev["cost"], pa.float64(), mask=np.isnan(ev["cost"])),
        "confidence": pa.array(ev["conf"], pa.float64(), mask=np.isnan(ev["conf"])),
        "exception_id": pc.take(exc_ids, pa.array(exc_safe, pa.int64(), mask=~has_exc)),
        "exception_class": _take(class_codes, cls_codes.astype(np.int64)),
        "severity": pa.array(severity.astype(np.int64), pa.int64(), mask=~has_exc),
        "actor": _take(sim.actors.values, ev["actor"].astype(np.int64)),
        "attempt": pa.array(ev["attempt"].astype(np.int64), pa.int64(), mask=ev["attempt"] == 0),
        "error_code": _take(sim.errors.values, ev["error"].astype(np.int64)),
        "attributes": event_attributes(rng, ev, attr_texts, wf_names, wf_of),
    }
    assert tuple(columns) == TELEMETRY_FIELDS
    return pa.table(columns)


def late_arrival(rng, table: pa.Table, ev_t: np.ndarray) -> pa.Table:
    """~2% of events arrive minutes to hours late: rows in arrival order, plus the empty raw column."""
    n = table.num_rows
    late = rng.random(n) < 0.02
    delay = np.where(late, (rng.exponential(20.0, n) * MS_PER_MIN).astype(np.int64), 0)
    arrival_order = np.lexsort((np.arange(n), ev_t + delay))
    table = table.take(pa.array(arrival_order, pa.int64()))
    return table.append_column(RAW_COLUMN, pa.nulls(n, pa.string()))
