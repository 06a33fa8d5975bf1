"""``generate_events``: validate the arguments, simulate every workflow, render, inject defects."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from orchestration.lib.generator.common import FMT_METADATA_KEY, check_format, epoch_ms, namespace, rng_seed
from orchestration.lib.generator.defects import inject_defects
from orchestration.lib.generator.render import (
    canonical_events,
    hostile_stage_codes,
    late_arrival,
    run_attributes,
    run_columns,
    telemetry_table,
)
from orchestration.lib.generator.simulate import Sim, build_plans, emit_exceptions, simulate_workflow
from orchestration.lib.generator.specs import Catalog, default_catalog
from orchestration.lib.generator.stuck import hang_stuck_runs

#: a legacy run emits about this many events (sizes the unregistered workflow's share)
_EVENTS_PER_LEGACY_RUN = 6.0


def default_register():
    from orchestration.lib.register import load_register

    return load_register(Path(__file__).resolve().parents[3] / "command_center.yml")


def _check_arguments(days: int, runs_per_day: int, defect_rate: float, fmt: str) -> None:
    check_format(fmt)
    if days < 1:
        raise ValueError("days must be at least 1")
    if runs_per_day < 0:
        raise ValueError("runs_per_day must not be negative")
    if not 0.0 <= defect_rate < 1.0:
        raise ValueError("defect_rate must be in [0, 1)")


def simulate_all(rng, sim: Sim, plans, *, days: int, runs_per_day: int, start_ms: int,
                 event_share: float) -> list[dict[str, np.ndarray]]:
    """Every registered workflow, then the unregistered one sized to ``event_share`` of the events."""
    run_parts: list[dict[str, np.ndarray]] = []
    run_offset = 0
    for w, plan in enumerate(plans[:-1]):
        r = simulate_workflow(rng, sim, plan, w, days=days, runs_per_day=runs_per_day, start_ms=start_ms,
                              run_offset=run_offset)
        run_parts.append(r)
        run_offset += len(r["start"])
    n_registered_events = sim.buf.event_count()
    legacy_runs = int(math.ceil(n_registered_events * event_share / _EVENTS_PER_LEGACY_RUN)) if n_registered_events else 0
    run_parts.append(simulate_workflow(rng, sim, plans[-1], len(plans) - 1, days=days, runs_per_day=runs_per_day,
                                       start_ms=start_ms, run_offset=run_offset, fixed_runs=legacy_runs))
    return run_parts


def generate_events(*, days: int, runs_per_day: int, seed: int, end_date: date, defect_rate: float = 0.005,
                    register=None, fmt: str = "jsonl", catalog: Catalog | None = None) -> pa.Table:
    """Simulate ``days`` days of telemetry ending (exclusive) at ``end_date`` 00:00 UTC.

    ``runs_per_day`` is runs per workflow per day before the per-workflow volume weight (mean ~1).
    ``fmt`` selects the format-specific defect kinds (see ``DEFECT_KINDS``); the base events do not
    depend on ``fmt`` or ``defect_rate``. ``catalog`` defaults to the package's workflows.yml.
    """
    _check_arguments(days, runs_per_day, defect_rate, fmt)
    if isinstance(end_date, datetime):
        end_date = end_date.date()
    register = register if register is not None else default_register()
    catalog = catalog or default_catalog()

    horizon_ms = epoch_ms(end_date)
    start_ms = epoch_ms(end_date - timedelta(days=days))
    workflow_ids = [o.workflow_id for o in register.owners]
    ns = namespace("events-v1", seed, days, runs_per_day, end_date.isoformat(), ",".join(workflow_ids))
    # the third stream (stuck runs) leaves the first two streams' draws unchanged
    rng, rng_defects, rng_stuck = (np.random.default_rng(s) for s in rng_seed(seed, 1).spawn(3))

    plans = build_plans(register, catalog)
    class_codes = [c.code for c in register.exceptions.classes]
    class_sev = [c.sev for c in register.exceptions.classes]
    severities = sorted(register.aging_alerts.minutes_by_severity()) or sorted(set(class_sev))

    sim = Sim.new(catalog)
    run_parts = simulate_all(rng, sim, plans, days=days, runs_per_day=runs_per_day, start_ms=start_ms,
                             event_share=catalog.unregistered.event_share)
    exc_info = emit_exceptions(rng, sim, plans, class_codes, class_sev, severities)

    ev = canonical_events(sim, horizon_ms)
    runs = run_columns(run_parts, plans)
    ev = hang_stuck_runs(rng_stuck, ev, runs["wf"], plans, horizon_ms)
    attr_texts, hostile_runs = run_attributes(rng, run_parts, plans, runs["wf"],
                                              tuple(register.data_controls.redaction.fields))
    stage_codes = hostile_stage_codes(ev, hostile_runs, sim.stage_names)
    owners = [p.owner for p in plans]
    owners[-1] = catalog.unregistered.owner
    table = telemetry_table(rng, sim, ev, runs, plans, exc_info, attr_texts, stage_codes, class_codes, ns, owners)
    table = late_arrival(rng, table, ev["t"])
    if defect_rate > 0 and table.num_rows > 0:
        table = inject_defects(table, rng_defects, defect_rate, fmt, ns)
    return table.replace_schema_metadata({FMT_METADATA_KEY: fmt.encode()})
