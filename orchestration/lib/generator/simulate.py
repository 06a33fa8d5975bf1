"""Run simulation: per workflow, runs and their stage / approval / exception events in a columnar buffer.

Every draw comes from the one ``numpy.random.Generator`` passed in, in a fixed order: the functions
here are called in sequence by ``simulate_workflow``, and reordering them changes the bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.lib.generator.common import ET, MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, Interner, lognormal
from orchestration.lib.generator.specs import Catalog, WorkflowSpec

NULL_I64 = np.iinfo(np.int64).min
EXC_KEYS = ("run", "t", "stage", "wf", "person", "failure")


class Buffer:
    """Events as column parts (one emit call per event kind per stage, vectorised over runs)."""

    COLS = ("run", "t", "etype", "seq", "stage", "duration", "cost", "conf", "exc", "actor",
            "attempt", "error", "attrs")
    _DTYPES = {"run": np.int64, "t": np.int64, "etype": np.int8, "seq": np.int32, "stage": np.int32,
               "duration": np.int64, "cost": np.float64, "conf": np.float64, "exc": np.int64,
               "actor": np.int32, "attempt": np.int16, "error": np.int32, "attrs": np.int64}

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
        p["etype"].append(np.full(n, ET[etype], dtype=np.int8))
        p["seq"].append(np.full(n, seq, dtype=np.int32))
        p["stage"].append(full(stage, np.int32, -1))
        p["duration"].append(full(duration, np.int64, NULL_I64))
        p["cost"].append(full(cost, np.float64, np.nan))
        p["conf"].append(full(conf, np.float64, np.nan))
        p["exc"].append(full(exc, np.int64, -1))
        p["actor"].append(full(actor, np.int32, -1))
        p["attempt"].append(full(attempt, np.int16, 0))
        p["error"].append(full(error, np.int32, -1))
        p["attrs"].append(full(attrs, np.int64, -1))

    def event_count(self) -> int:
        return sum(len(a) for a in self.parts["run"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {c: (np.concatenate(v) if v else np.empty(0, dtype=self._DTYPES[c])) for c, v in self.parts.items()}


@dataclass
class WorkflowPlan:
    """One workflow to simulate: its spec plus the register's targets for it."""

    workflow_id: str
    spec: WorkflowSpec
    regions: tuple[str, ...]
    owner: str | None
    p90_hours: float
    exception_pct: float
    first_touch_min: float
    resolution_hours: float
    volume_weight: float


@dataclass
class Sim:
    """Shared state of one generation: the buffer, the interned strings and the exception rows."""

    catalog: Catalog
    buf: Buffer
    stage_names: Interner
    actors: Interner
    errors: Interner
    exc_rows: dict[str, list[np.ndarray]]

    @classmethod
    def new(cls, catalog: Catalog) -> Sim:
        return cls(catalog, Buffer(), Interner(), Interner(("system",)), Interner(), {k: [] for k in EXC_KEYS})

    def add_exceptions(self, run, t, stage, wf_code: int, person, failure: bool) -> None:
        n = len(run)
        rows = self.exc_rows
        rows["run"].append(run)
        rows["t"].append(t)
        rows["stage"].append(stage if isinstance(stage, np.ndarray) else np.full(n, stage, dtype=np.int32))
        rows["wf"].append(np.full(n, wf_code, dtype=np.int32))
        rows["person"].append(person)
        rows["failure"].append(np.full(n, failure, dtype=bool))


def build_plans(register, catalog: Catalog) -> list[WorkflowPlan]:
    """One plan per registered workflow (volume weights normalised to mean 1), then the unregistered one."""
    plans: list[WorkflowPlan] = []
    for o in register.owners:
        spec = catalog.spec_for(o.workflow_id)
        plans.append(WorkflowPlan(
            o.workflow_id, spec, tuple(o.regions), o.service_owner, o.sla.cycle_time_p90_hours,
            o.exception_budget.monthly_rate_pct, o.sla.exception_first_touch_minutes,
            o.sla.exception_resolution_hours, spec.volume_weight,
        ))
    mean_w = float(np.mean([p.volume_weight for p in plans]))
    for p in plans:
        p.volume_weight = p.volume_weight / mean_w
    mean_ft = float(np.mean([p.first_touch_min for p in plans]))
    mean_res = float(np.mean([p.resolution_hours for p in plans]))
    un = catalog.unregistered
    plans.append(WorkflowPlan(un.workflow_id, un.spec, (un.region,), None, 1.5, un.exception_pct,
                              mean_ft, mean_res, 1.0))
    return plans


# ------------------------------------------------------------------------------------------------
# Draws
# ------------------------------------------------------------------------------------------------


def draw_runs(rng, plan: WorkflowPlan, *, days: int, runs_per_day: int, start_ms: int,
              fixed_runs: int | None) -> dict[str, np.ndarray]:
    """Run starts (per-day Poisson counts with a weekly pattern and a mild trend), regions, owner gaps."""
    if fixed_runs is None:
        day_idx = np.arange(days)
        day_of_week = ((start_ms // MS_PER_DAY) + 3 + day_idx) % 7  # 1970-01-01 was a Thursday
        weekly = np.where(day_of_week >= 5, 0.6, 1.1)
        trend = 0.9 + 0.2 * (day_idx / max(days - 1, 1))
        counts = rng.poisson(runs_per_day * plan.volume_weight * weekly * trend)
    else:
        counts = np.bincount(rng.integers(0, days, size=fixed_runs), minlength=days)
    R = int(counts.sum())
    if R == 0:
        return {"start": np.empty(0, np.int64), "region": np.empty(0, np.int32), "owner_null": np.empty(0, bool)}
    day_of_run = np.repeat(np.arange(days), counts)
    # time of day: 70% business hours (around 13:00 UTC), 30% uniform
    busy = rng.random(R) < 0.7
    tod = np.where(busy, np.clip(rng.normal(13.0, 3.5, R), 0, 23.999), rng.uniform(0, 24, R))
    start = start_ms + day_of_run.astype(np.int64) * MS_PER_DAY + (tod * MS_PER_HOUR).astype(np.int64)
    start = start[np.argsort(start, kind="stable")]
    nreg = len(plan.regions)
    reg_w = np.array([1.0 / (i + 1) for i in range(nreg)])
    region = rng.choice(nreg, size=R, p=reg_w / reg_w.sum()).astype(np.int32)
    owner_null = rng.random(R) < (0.5 if plan.owner is None else 0.02)
    return {"start": start, "region": region, "owner_null": owner_null}


def draw_outcomes(rng, plan: WorkflowPlan, R: int) -> dict[str, np.ndarray | float]:
    """Which runs fail (and at which stage), need an approval, are rejected; the approval waits."""
    spec = plan.spec
    S = len(spec.stages)
    target_exc = plan.exception_pct / 100.0 * spec.exception_ratio
    p_fail = target_exc * spec.fail_share
    fails = rng.random(R) < p_fail
    fail_stage = np.where(fails, rng.integers(0, S, size=R), S)
    ab = spec.approval_before
    appr = (rng.random(R) < spec.p_approval) if ab is not None else np.zeros(R, bool)
    appr &= fail_stage >= (ab if ab is not None else 0)
    rej = appr & (rng.random(R) < spec.p_reject)
    appr_wait_u = lognormal(rng, spec.approval_wait, 0.8, R)
    return {"p_handled": max(target_exc - p_fail, 0.0), "fail_stage": fail_stage, "appr": appr, "rej": rej,
            "appr_wait_u": appr_wait_u}


def draw_stage_times(rng, spec: WorkflowSpec, R: int) -> dict[str, np.ndarray]:
    """Per-stage waits, final attempts, retries, failed attempts and backoffs, in relative units."""
    S = len(spec.stages)
    times = {"wait_u": np.empty((S, R)), "final_u": np.empty((S, R)), "retries": np.zeros((S, R), dtype=np.int8),
             "att_u": np.zeros((S, 2, R)), "back_u": np.zeros((S, 2, R)), "is_to": np.zeros((S, 2, R), dtype=bool)}
    for s, st in enumerate(spec.stages):
        times["wait_u"][s] = lognormal(rng, st.wait, 0.9, R)
        times["final_u"][s] = lognormal(rng, st.median, st.sigma, R)
        r = rng.random(R)
        times["retries"][s] = np.where(r < st.p_retry * 0.25, 2, np.where(r < st.p_retry, 1, 0))
        for j in range(2):
            times["att_u"][s, j] = times["final_u"][s] * rng.uniform(0.2, 1.0, R)
            times["back_u"][s, j] = st.median * 0.1 * (2**j) * rng.uniform(0.5, 1.5, R)
            times["is_to"][s, j] = rng.random(R) < st.p_timeout
    # timeouts take the full timeout budget: 1.5x the stage median
    for s, st in enumerate(spec.stages):
        times["att_u"][s] = np.where(times["is_to"][s], st.median * 1.5, times["att_u"][s])
    return times


def time_scale(plan: WorkflowPlan, times: dict, out: dict) -> tuple[float, np.ndarray]:
    """(ms per relative unit so the completed runs' p90 cycle time hits the target, completed mask)."""
    spec = plan.spec
    S = len(spec.stages)
    retries = times["retries"]
    retry_u = (times["att_u"] + times["back_u"]) * (np.arange(2)[None, :, None] < retries[:, None, :])
    elapsed_u = retry_u.sum(axis=1) + times["final_u"]
    cycle_u = (times["wait_u"] + elapsed_u).sum(axis=0) + np.where(out["appr"], out["appr_wait_u"], 0.0)
    completed = (out["fail_stage"] == S) & ~out["rej"]
    p90_hours = spec.fixed_p90_hours if spec.fixed_p90_hours is not None else plan.p90_hours * spec.p90_ratio
    basis = cycle_u[completed] if completed.any() else cycle_u
    return p90_hours * MS_PER_HOUR / float(np.quantile(basis, 0.9)), completed


# ------------------------------------------------------------------------------------------------
# Emitting one workflow's events
# ------------------------------------------------------------------------------------------------


@dataclass
class RunState:
    """What the stage loop reads and advances for one workflow's runs."""

    wf_code: int
    run_idx: np.ndarray
    start: np.ndarray
    t: np.ndarray  # cursor: each run's time so far
    stopped: np.ndarray  # rejected -> no more stages
    person: np.ndarray
    approver: np.ndarray
    scale: float
    stage_start: np.ndarray
    stage_end: np.ndarray

    def ms(self, u):
        return np.maximum(np.rint(u * self.scale).astype(np.int64), 1)


def emit_approval(sim: Sim, st_code: int, seq: int, rs: RunState, out: dict) -> None:
    """approval_requested, then granted or rejected (a rejection fails the run)."""
    buf = sim.buf
    a = np.nonzero(out["appr"] & ~rs.stopped)[0]
    t_req = rs.t[a] + 1000
    t_dec = t_req + rs.ms(out["appr_wait_u"][a])
    buf.emit(rs.run_idx[a], t_req, "approval_requested", seq - 2, stage=st_code, actor=sim.actors("system"))
    r_a = out["rej"][a]
    g = a[~r_a]
    buf.emit(rs.run_idx[g], t_dec[~r_a], "approval_granted", seq - 1, stage=st_code, actor=rs.approver[g],
             duration=t_dec[~r_a] - t_req[~r_a])
    rj = a[r_a]
    buf.emit(rs.run_idx[rj], t_dec[r_a], "approval_rejected", seq - 1, stage=st_code, actor=rs.approver[rj],
             duration=t_dec[r_a] - t_req[r_a])
    buf.emit(rs.run_idx[rj], t_dec[r_a] + 1500, "run_failed", seq - 1, stage=st_code, actor=sim.actors("system"),
             error=sim.errors(sim.catalog.reject_error_code), duration=t_dec[r_a] + 1500 - rs.start[rj])
    rs.t[a] = t_dec
    rs.stopped |= out["rej"]


def emit_retries(rng, sim: Sim, s: int, st_code: int, seq: int, idx, t_s, rs: RunState, times: dict) -> np.ndarray:
    """Failed attempts (timed out or not) and their retries; returns the time each run's last attempt starts."""
    system = sim.actors("system")
    timeout_err = sim.errors("TIMEOUT")
    retry_err = sim.errors.many(sim.catalog.retry_error_codes)
    cur = t_s.copy()
    for j in range(2):
        has = times["retries"][s, idx] > j
        h = idx[has]
        t_att = cur[has] + rs.ms(times["att_u"][s, j, h])
        to = times["is_to"][s, j, h]
        sim.buf.emit(rs.run_idx[h[to]], t_att[to], "stage_timed_out", seq + 1 + 2 * j, stage=st_code,
                     actor=system, attempt=j + 1, error=timeout_err, duration=t_att[to] - t_s[has][to],
                     cost=np.round(lognormal(rng, 0.5, 0.5, int(to.sum())), 4))
        t_retry = t_att + rs.ms(times["back_u"][s, j, h])
        err = np.where(to, timeout_err, retry_err[rng.integers(0, len(retry_err), size=len(h))])
        sim.buf.emit(rs.run_idx[h], t_retry, "stage_retried", seq + 2 + 2 * j, stage=st_code, actor=system,
                     attempt=j + 2, error=err)
        cur[has] = t_retry
    return cur


def emit_stage_failure(rng, sim: Sim, spec: WorkflowSpec, st_code: int, seq: int, f, tf, t_s_f, attempt_f,
                       rs: RunState) -> None:
    """Failing runs: the final attempt fails (half as a timeout), an exception, run_failed, maybe compensation."""
    system = sim.actors("system")
    timeout_err = sim.errors("TIMEOUT")
    retry_err = sim.errors.many(sim.catalog.retry_error_codes)
    buf = sim.buf
    to_f = rng.random(len(f)) < 0.5
    buf.emit(rs.run_idx[f[to_f]], tf[to_f], "stage_timed_out", seq + 6, stage=st_code, actor=system,
             attempt=attempt_f[to_f], error=timeout_err, duration=tf[to_f] - t_s_f[to_f],
             cost=np.round(lognormal(rng, 0.5, 0.5, int(to_f.sum())), 4))
    sim.add_exceptions(rs.run_idx[f], tf + 500, st_code, rs.wf_code, rs.person[f], failure=True)
    fail_err = np.where(to_f, timeout_err, retry_err[rng.integers(0, len(retry_err), size=len(f))])
    buf.emit(rs.run_idx[f], tf + 1500, "run_failed", seq + 8, stage=st_code, actor=system, error=fail_err,
             duration=tf + 1500 - rs.start[f])
    comp = rng.random(len(f)) < spec.p_compensate
    t_comp = tf[comp] + 1500 + (lognormal(rng, 8.0, 0.8, int(comp.sum())) * MS_PER_MIN).astype(np.int64)
    buf.emit(rs.run_idx[f[comp]], t_comp, "run_compensated", seq + 9, stage=st_code, actor=system)


_STAGE_COST = {"human": (250.0, 0.5), "ai": (6.0, 0.6), "system": (0.8, 0.7)}


def emit_stage_completion(rng, sim: Sim, st, st_code: int, seq: int, c, tc, t_s_c, attempt_c,
                          rs: RunState) -> None:
    """stage_completed with its cost (and confidence on AI stages)."""
    nc = len(c)
    cost = lognormal(rng, *_STAGE_COST.get(st.kind, _STAGE_COST["system"]), nc)
    conf = np.round(rng.beta(8.0, 1.5, nc), 4) if st.kind == "ai" else None
    sim.buf.emit(rs.run_idx[c], tc, "stage_completed", seq + 7, stage=st_code,
                 actor=rs.person[c] if st.kind == "human" else sim.actors("system"), attempt=attempt_c,
                 duration=tc - t_s_c, cost=np.round(cost, 4), conf=conf)


def emit_stage(rng, sim: Sim, spec: WorkflowSpec, s: int, rs: RunState, out: dict, times: dict) -> None:
    """One stage for every run still alive: approval gate, start, retries, then failure or completion."""
    st = spec.stages[s]
    seq = 10 + s * 20
    st_code = sim.stage_names(st.name)
    if spec.approval_before == s:
        emit_approval(sim, st_code, seq, rs, out)
    idx = np.nonzero((~rs.stopped) & (out["fail_stage"] >= s))[0]
    if len(idx) == 0:
        return
    t_s = rs.t[idx] + rs.ms(times["wait_u"][s, idx])
    rs.stage_start[s, idx] = t_s
    sim.buf.emit(rs.run_idx[idx], t_s, "stage_started", seq, stage=st_code,
                 actor=rs.person[idx] if st.kind == "human" else sim.actors("system"), attempt=1)
    cur = emit_retries(rng, sim, s, st_code, seq, idx, t_s, rs, times)
    t_fin = cur + rs.ms(times["final_u"][s, idx])
    attempt_fin = times["retries"][s, idx].astype(np.int16) + 1
    failing = out["fail_stage"][idx] == s
    emit_stage_failure(rng, sim, spec, st_code, seq, idx[failing], t_fin[failing], t_s[failing],
                       attempt_fin[failing], rs)
    emit_stage_completion(rng, sim, st, st_code, seq, idx[~failing], t_fin[~failing], t_s[~failing],
                          attempt_fin[~failing], rs)
    rs.stage_end[s, idx] = t_fin
    rs.t[idx] = t_fin


def add_handled_exceptions(rng, sim: Sim, spec: WorkflowSpec, rs: RunState, out: dict) -> None:
    """Handled exceptions: raised during a random reached stage; the run carries on."""
    S = len(spec.stages)
    R = len(rs.run_idx)
    handled = rng.random(R) < out["p_handled"]
    last_stage = np.minimum(out["fail_stage"], S - 1)
    if spec.approval_before is not None:
        last_stage = np.where(out["rej"], spec.approval_before - 1, last_stage)
    handled &= last_stage >= 0
    h = np.nonzero(handled)[0]
    hs = (rng.random(len(h)) * (last_stage[h] + 1)).astype(np.int64)
    s0 = rs.stage_start[hs, h]
    s1 = np.where(rs.stage_end[hs, h] > s0, rs.stage_end[hs, h], s0 + 1000)
    t_exc = s0 + ((s1 - s0) * rng.random(len(h))).astype(np.int64)
    stage_codes = np.array([sim.stage_names(st.name) for st in spec.stages], dtype=np.int32)
    sim.add_exceptions(rs.run_idx[h], t_exc, stage_codes[hs], rs.wf_code, rs.person[h], failure=False)


def simulate_workflow(rng: np.random.Generator, sim: Sim, plan: WorkflowPlan, wf_code: int, *, days: int,
                      runs_per_day: int, start_ms: int, run_offset: int,
                      fixed_runs: int | None = None) -> dict[str, np.ndarray]:
    """Simulate one workflow's runs into ``sim``; returns per-run workflow code, start, region, owner gap."""
    spec = plan.spec
    S = len(spec.stages)
    runs = draw_runs(rng, plan, days=days, runs_per_day=runs_per_day, start_ms=start_ms, fixed_runs=fixed_runs)
    R = len(runs["start"])
    runs["wf"] = np.full(R, wf_code, dtype=np.int32)
    if R == 0:
        return runs
    out = draw_outcomes(rng, plan, R)
    times = draw_stage_times(rng, spec, R)
    scale, completed = time_scale(plan, times, out)
    sim.actors("system")
    people = sim.actors.many(spec.people or sim.catalog.people[:3])
    person = people[rng.integers(0, len(people), size=R)]
    approver = people[rng.integers(0, len(people), size=R)]
    sim.errors.many(sim.catalog.retry_error_codes)
    sim.errors("TIMEOUT")
    start = runs["start"]
    rs = RunState(wf_code, run_offset + np.arange(R, dtype=np.int64), start, start.copy(), np.zeros(R, dtype=bool),
                  person, approver, scale, np.full((S, R), -1, dtype=np.int64), np.full((S, R), -1, dtype=np.int64))
    sim.buf.emit(rs.run_idx, rs.t, "run_started", 0, actor=sim.actors("system"), attrs=rs.run_idx)
    for s in range(S):
        emit_stage(rng, sim, spec, s, rs, out, times)
    done = np.nonzero(completed)[0]
    t_done = rs.t[done] + rng.integers(200, 5000, size=len(done))
    sim.buf.emit(rs.run_idx[done], t_done, "run_completed", 10 + S * 20, actor=sim.actors("system"),
                 duration=t_done - start[done])
    add_handled_exceptions(rng, sim, spec, rs, out)
    return runs


# ------------------------------------------------------------------------------------------------
# Exception lifecycles (after every workflow ran)
# ------------------------------------------------------------------------------------------------


def _classify(rng, ex: dict, plans: list[WorkflowPlan], class_codes: list[str]) -> np.ndarray:
    """Class per exception, from per-workflow weights (failures lean towards ORCHESTRATION/EXTERNAL)."""
    n = len(ex["run"])
    wf = ex["wf"].astype(np.int64)
    ncls = len(class_codes)
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
    return cls


def _error_codes(rng, sim: Sim, cls: np.ndarray, class_codes: list[str]) -> np.ndarray:
    err = np.empty(len(cls), dtype=np.int32)
    r = rng.random(len(cls))
    for i, code in enumerate(class_codes):
        codes = sim.errors.many(sim.catalog.error_codes_by_class.get(code, (f"{code}_ERROR",)))
        m = cls == i
        err[m] = codes[(r[m] * len(codes)).astype(np.int64) % len(codes)]
    return err


def emit_exceptions(rng: np.random.Generator, sim: Sim, plans: list[WorkflowPlan], class_codes: list[str],
                    class_sev: list[int], severities: list[int]) -> dict[str, np.ndarray]:
    """Raise, acknowledge and resolve every collected exception; returns class and severity per exception."""
    ex = {k: (np.concatenate(v) if v else np.empty(0, np.int64)) for k, v in sim.exc_rows.items()}
    n = len(ex["run"])
    order = np.lexsort((ex["run"], ex["t"]))
    ex = {k: v[order] for k, v in ex.items()}
    wf = ex["wf"].astype(np.int64)
    cls = _classify(rng, ex, plans, class_codes)
    sev = np.array(class_sev, dtype=np.int64)[cls]
    override = rng.random(n) < 0.1
    sev_choices = np.array(severities, dtype=np.int64)
    sev = np.where(override, sev_choices[rng.integers(0, len(sev_choices), size=n)], sev)
    err = _error_codes(rng, sim, cls, class_codes)
    # first touch and resolution, relative to the workflow's SLOs
    ft_min = np.array([p.first_touch_min for p in plans])[wf]
    res_h = np.array([p.resolution_hours for p in plans])[wf]
    ack_ratio = np.array([p.spec.ack_ratio for p in plans])[wf]
    res_ratio = np.array([p.spec.resolve_ratio for p in plans])[wf]
    ack_delay = np.maximum(ft_min * ack_ratio * np.exp(0.8 * rng.standard_normal(n)) * MS_PER_MIN, 5000).astype(np.int64)
    res_delay = (res_h * res_ratio * np.exp(0.9 * rng.standard_normal(n)) * MS_PER_HOUR).astype(np.int64)
    res_delay = np.maximum(res_delay, ack_delay + MS_PER_MIN)
    never_ack = rng.random(n) < 0.01
    never_res = never_ack | (rng.random(n) < 0.03)
    exc_idx = np.arange(n, dtype=np.int64)
    resolver = np.where(rng.random(n) < 0.8, ex["person"], ex["person"][rng.permutation(n)] if n else ex["person"])
    buf = sim.buf
    buf.emit(ex["run"], ex["t"], "exception_raised", 1000, actor=sim.actors("system"), attrs=-2 - ex["run"],
             stage=ex["stage"], exc=exc_idx, error=err)
    a = ~never_ack
    buf.emit(ex["run"][a], ex["t"][a] + ack_delay[a], "exception_acknowledged", 1001, actor=ex["person"][a],
             stage=ex["stage"][a], exc=exc_idx[a], error=err[a])
    rs = ~never_res
    buf.emit(ex["run"][rs], ex["t"][rs] + res_delay[rs], "exception_resolved", 1002, actor=resolver[rs],
             stage=ex["stage"][rs], exc=exc_idx[rs], error=err[rs])
    return {"cls": cls, "sev": sev}
