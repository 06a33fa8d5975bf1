"""The plain-language lines of the report: one per workflow, from agg_improvement_vs_baseline rows
(e.g. "Invoice posting: p90 cycle time 3.4 h → 1.9 h (-44%); ..."). Pure functions of the rows."""
from __future__ import annotations

from datetime import timedelta
from typing import Any


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def percent_change(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "±0%" if round(value) == 0 else f"{value:+.0f}%"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _window(row: dict[str, Any]) -> str:
    return (f"latest {row['recent_weeks']} full weeks ({row['recent_week_from']} to {row['recent_week_to']}) "
            f"vs baseline {row['baseline_week_from']} to {row['baseline_week_to']}")


def _not_comparable(name: str, row: dict[str, Any]) -> str:
    status = row["comparison_status"]
    if status == "baseline_not_ended":
        ready = row["baseline_week_to"] + timedelta(days=7)
        return (f"{name}: not enough history yet - the baseline ({row['baseline_week_from']} to "
                f"{row['baseline_week_to']}) has not ended; the first comparison is possible after {ready}.")
    if status == "windows_overlap":
        return (f"{name}: the baseline ({row['baseline_week_from']} to {row['baseline_week_to']}) overlaps the latest "
                f"{row['recent_weeks']} full weeks; no comparison until they are apart.")
    which = "baseline" if status == "no_baseline_value" else "recent"
    return f"{name}: no completed run in the {which} window, so no p90 cycle time to compare ({_window(row)})."


def workflow_line(name: str, rows: dict[str, dict[str, Any]]) -> str:
    """One sentence for a workflow from its metric rows (keyed by metric)."""
    p90 = rows.get("cycle_time_p90_seconds")
    if p90 is None:
        return f"{name}: no improvement figures."
    if p90["comparison_status"] != "comparable":
        return _not_comparable(name, p90)
    parts = [f"p90 cycle time {duration(p90['baseline_value'])} → {duration(p90['recent_value'])} "
             f"({percent_change(p90['change_pct'])})"]
    breach = rows.get("sla_breach_rate")
    if breach and breach["comparison_status"] == "comparable":
        parts.append(f"SLA breaches {_share(breach['baseline_value'])} → {_share(breach['recent_value'])} "
                     f"({percent_change(breach['change_pct'])})")
    hours = rows.get("human_hours_for_recent_volume")
    if hours and hours["comparison_status"] == "comparable":
        returned = -hours["change_value"]
        if returned >= 0:
            share = "n/a" if hours["change_pct"] is None else f"{-hours['change_pct']:.0f}%"
            parts.append(f"{returned:,.0f} human hours returned ({share} of the hours at baseline hours per run)")
        else:
            parts.append(f"{-returned:,.0f} more human hours than at baseline hours per run "
                         f"({percent_change(hours['change_pct'])})")
    cost = rows.get("cost_per_run")
    if cost and cost["comparison_status"] == "comparable":
        parts.append(f"cost per run {cost['baseline_value']:,.2f} → {cost['recent_value']:,.2f} {cost['unit']} "
                     f"({percent_change(cost['change_pct'])})")
    return f"{name}: " + "; ".join(parts) + "."


def windows_note(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """The comparison windows in words: the recent window (the same for every workflow) and the baselines."""
    if not rows:
        return ""
    first = rows[0][1]
    baselines = sorted({(r["baseline_week_from"], r["baseline_week_to"]) for _, r in rows})
    base = (f"baseline {baselines[0][0]} to {baselines[0][1]}" if len(baselines) == 1
            else "each workflow's baseline (table below)")
    return (f"Latest {first['recent_weeks']} full weeks ({first['recent_week_from']} to {first['recent_week_to']}, "
            f"weeks starting Monday, UTC) against {base}.")


def improvement_lines(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One line per workflow, in the rows' order (agg_improvement_vs_baseline, by workflow name)."""
    by_workflow: dict[str, dict[str, dict[str, Any]]] = {}
    names: dict[str, str] = {}
    for _, r in rows:
        by_workflow.setdefault(r["workflow_id"], {})[r["metric"]] = r
        names[r["workflow_id"]] = r["workflow"]
    return [workflow_line(names[wf], metrics) for wf, metrics in by_workflow.items()]
