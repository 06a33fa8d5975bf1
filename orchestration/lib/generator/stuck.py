"""Stuck runs at the end of the window: a few in-flight runs that stopped emitting events long ago.

Per workflow and per hang kind (a stage started and never finished: waits on a dependency; an
approval requested and never decided: waits on a human; an attempt timed out and its retry never
came: waits on a scheduled retry), one run is picked among the events of that kind that happened
between ``STUCK_WINDOW_DAYS`` days and ``STUCK_MIN_AGE_X_P90`` x the workflow's p90 cycle time
before the horizon, and every later event of that run is dropped (its terminal event included). So
at the end of the window each such run is in flight, in the same state for more than its p90 cycle
time: past the default stuck threshold (docs/operations.md). The draws come from their own stream
(the third child of the telemetry seed sequence), so every other event is unchanged.
"""
from __future__ import annotations

import numpy as np

from orchestration.lib.generator.common import ET, MS_PER_DAY, MS_PER_HOUR
from orchestration.lib.generator.simulate import WorkflowPlan

#: the last event of a stuck run, one stuck run per kind and workflow (when a candidate exists)
HANG_KINDS: tuple[str, ...] = ("stage_started", "approval_requested", "stage_timed_out")
STUCK_WINDOW_DAYS = 3
STUCK_MIN_AGE_X_P90 = 1.2


def _p90_ms(plan: WorkflowPlan) -> float:
    spec = plan.spec
    hours = spec.fixed_p90_hours if spec.fixed_p90_hours is not None else plan.p90_hours * spec.p90_ratio
    return hours * MS_PER_HOUR


def hang_stuck_runs(rng: np.random.Generator, ev: dict[str, np.ndarray], runs_wf: np.ndarray,
                    plans: list[WorkflowPlan], horizon_ms: int) -> dict[str, np.ndarray]:
    """``ev`` (canonical events) without the events after each stuck run's hang point (order kept)."""
    if len(ev["run"]) == 0:
        return ev
    hang = np.full(len(runs_wf), np.iinfo(np.int64).max, dtype=np.int64)
    ev_wf = runs_wf[ev["run"]]
    lo = horizon_ms - STUCK_WINDOW_DAYS * MS_PER_DAY
    for w, plan in enumerate(plans):
        hi = horizon_ms - int(STUCK_MIN_AGE_X_P90 * _p90_ms(plan))
        in_window = (ev_wf == w) & (ev["t"] >= lo) & (ev["t"] <= hi)
        for kind in HANG_KINDS:
            candidates = np.nonzero(in_window & (ev["etype"] == ET[kind]))[0]
            if len(candidates) == 0:
                continue
            pick = candidates[rng.integers(0, len(candidates))]
            run = ev["run"][pick]
            hang[run] = min(hang[run], ev["t"][pick])
    keep = ev["t"] <= hang[ev["run"]]
    return {k: v[keep] for k, v in ev.items()}
