"""The report's charts: matplotlib (Agg, no display) rendered to inline SVG text.

Text stays text in the SVG (``svg.fonttype: none``), which matplotlib escapes as XML, drawn in the
page's system font stack; math text is off (a ``$`` in a workflow name is a dollar sign). The
figure's metadata date is dropped and ids are salted with a constant, so the same marts give the
same bytes. Each function takes the rows of one panel (orchestration/lib/report/data.py) and
returns ``<svg ...>...</svg>`` without an XML declaration or DOCTYPE (nothing to fetch)."""
from __future__ import annotations

import io
from collections import defaultdict
from datetime import date
from typing import Any

import matplotlib
from matplotlib.figure import Figure

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "command-center-report",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["system-ui", "Segoe UI", "Helvetica", "Arial", "DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#6a4c93", "#30638e",
                                                "#8d6a9f", "#5b8c5a", "#a05c2c", "#444444"]),
}
WIDE = (9.5, 3.4)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    # no RDF metadata block (namespace URLs, a creation date): nothing in the page names an outside address
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure(size: tuple[float, float] = WIDE) -> Figure:
    return Figure(figsize=size, layout="constrained")


def _label(text: Any, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend(ax, n: int) -> None:
    if n:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def _empty(message: str) -> str:
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, 1.0))
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.0, 0.5, message, va="center")
        return _svg(fig)


def _weekly_lines(series: dict[str, dict[date, float]], weeks: list[date], ylabel: str) -> str:
    """One line per series over the weeks (a missing week is a gap in the line, not a zero)."""
    with matplotlib.rc_context(RC):
        fig = _figure()
        ax = fig.add_subplot()
        for name, points in series.items():
            xs = [w for w in weeks if w in points]
            ax.plot(xs, [points[w] for w in xs], marker="o", markersize=3, label=_label(name))
        ax.set_ylabel(ylabel)
        ax.set_xticks(weeks, [f"{w:%d %b}" for w in weeks], rotation=45, ha="right")
        ax.set_ylim(bottom=0)
        _legend(ax, len(series))
        return _svg(fig)


def _stacked_barh(categories: list[str], stacks: dict[str, dict[str, float]], xlabel: str) -> str:
    """Horizontal bars, one per category, stacked by the keys of ``stacks`` (the legend)."""
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, max(2.0, 0.35 * len(categories) + 0.8)))
        ax = fig.add_subplot()
        left = [0.0] * len(categories)
        for stack, counts in stacks.items():
            values = [counts.get(c, 0) for c in categories]
            ax.barh(range(len(categories)), values, left=left, label=_label(stack))
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(range(len(categories)), [_label(c) for c in categories])
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        _legend(ax, len(stacks))
        return _svg(fig)


def throughput(rows: list[dict[str, Any]], weeks: list[date]) -> str:
    """Runs completed per week, one line per workflow."""
    if not rows:
        return _empty("No runs in these weeks.")
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for r in rows:
        series[r["workflow_name"]][r["week_start"]] = r["runs_completed"]
    return _weekly_lines(series, weeks, "runs completed per week")


def cycle_time(rows: list[dict[str, Any]], weeks: list[date]) -> str:
    """p50 and p90 cycle time (hours) per week against the workflow's SLO line, one small chart each."""
    by_workflow: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_workflow[r["workflow_name"]].append(r)
    if not by_workflow:
        return _empty("No completed runs in these weeks.")
    n = len(by_workflow)
    cols = 3
    nrows = (n + cols - 1) // cols
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, 2.2 * nrows))
        for i, (name, points) in enumerate(by_workflow.items()):
            ax = fig.add_subplot(nrows, cols, i + 1)
            xs = [p["week_start"] for p in points]
            for key, label, style in (("cycle_time_p50_seconds", "p50", "-"), ("cycle_time_p90_seconds", "p90", "-")):
                ys = [p[key] / 3600 if p[key] is not None else float("nan") for p in points]
                ax.plot(xs, ys, style, marker="o", markersize=2, label=label)
            slo = points[0]["cycle_time_slo_seconds"]
            if slo is not None:
                ax.axhline(slo / 3600, color="#444444", linestyle="--", linewidth=1, label="SLO (p90)")
            ax.set_title(_label(name, 32), fontsize=9, loc="left")
            ax.set_ylim(bottom=0)
            ax.set_xticks([weeks[0], weeks[-1]], [f"{weeks[0]:%d %b}", f"{weeks[-1]:%d %b}"])
            if i % cols == 0:
                ax.set_ylabel("hours")
            if i == 0:
                ax.legend(fontsize=7, frameon=False)
        return _svg(fig)


def slo_budget(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Error budget remaining (%) per workflow and SLI for the week; breached SLIs in red."""
    if not rows:
        return _empty("No SLO snapshot for this week.")
    labels, values, colors = [], [], []
    for _, r in rows:
        labels.append(_label(f"{r['workflow']} · {r['sli']}", 60))
        value = r["error_budget_remaining_pct"]
        values.append(max(-100.0, min(100.0, value)) if value is not None else 0.0)
        colors.append("#d1495b" if r["is_breached"] else "#00798c")
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, max(2.0, 0.18 * len(rows) + 0.8)))
        ax = fig.add_subplot()
        ax.barh(range(len(values)), values, color=colors)
        ax.set_yticks(range(len(values)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="#444444", linewidth=1)
        ax.set_xlim(-100, 100)
        ax.set_xlabel("error budget remaining, % (clipped to ±100; red = SLO breached)")
        return _svg(fig)


def budget_burn(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Exception budget consumed this month (and projected to month end) per workflow, against 100%."""
    if not rows:
        return _empty("No exception-budget rows for this month.")
    labels = [_label(r["workflow"]) for _, r in rows]
    consumed = [r["budget_spent_to_date_pct"] if r["is_current_month"] else r["budget_consumed_pct"] for _, r in rows]
    projected = [r["projected_end_of_month_consumed_pct"] for _, r in rows]
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, max(2.0, 0.35 * len(rows) + 0.8)))
        ax = fig.add_subplot()
        ys = range(len(rows))
        ax.barh([y - 0.2 for y in ys], [v or 0 for v in consumed], height=0.4, label="consumed (to date)")
        if any(p is not None for p in projected):
            ax.barh([y + 0.2 for y in ys], [p or 0 for p in projected], height=0.4, label="projected at month end")
        ax.axvline(100, color="#d1495b", linestyle="--", linewidth=1, label="budget (100%)")
        ax.set_yticks(list(ys), labels)
        ax.invert_yaxis()
        ax.set_xlabel("% of the month's exception budget")
        _legend(ax, 1)
        return _svg(fig)


def backlog(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Open exceptions per routed owner, stacked by age bucket."""
    if not rows:
        return _empty("No open exceptions.")
    owners: list[str] = []
    buckets: dict[tuple[int, str], dict[str, float]] = defaultdict(dict)
    for _, r in rows:
        if r["routed_owner"] not in owners:
            owners.append(r["routed_owner"])
        cell = buckets[(r["age_bucket_order"], r["age_bucket"])]
        cell[r["routed_owner"]] = cell.get(r["routed_owner"], 0) + r["open_exceptions"]
    stacks = {bucket: counts for (_, bucket), counts in sorted(buckets.items())}
    return _stacked_barh(owners, stacks, "open exceptions (as of the build)")


def leaderboard(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Share of runs within SLO over the last 4 weeks per owner, in rank order."""
    if not rows:
        return _empty("No registered owners.")
    labels = [_label(f"{r['leaderboard_rank']}. {r['owner']}") for _, r in rows]
    shares = [(r["share_within_slo_last_4_weeks"] or 0) * 100 for _, r in rows]
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, max(2.0, 0.35 * len(rows) + 0.8)))
        ax = fig.add_subplot()
        ax.barh(range(len(rows)), shares, color="#1b6ca8")
        ax.set_yticks(range(len(rows)), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("runs completed within the cycle-time SLO, last 4 weeks (%)")
        return _svg(fig)


def cost_trend(rows: list[dict[str, Any]], weeks: list[date]) -> str:
    """Cost per completed run per week, one line per owner team x region."""
    if not rows:
        return _empty("No cost rows in these weeks.")
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for r in rows:
        if r["cost_per_completed_run"] is not None:
            series[f"{r['owner_team']} · {r['region']}"][r["week_start"]] = r["cost_per_completed_run"]
    currency = next((r["currency"] for r in rows if r["currency"]), "")
    return _weekly_lines(series, weeks, f"cost per completed run ({currency})")


def drilldown(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Exceptions raised in the week per class, stacked by workflow."""
    if not rows:
        return _empty("No exceptions raised this week.")
    classes: list[str] = []
    stacks: dict[str, dict[str, float]] = defaultdict(dict)
    for _, r in rows:
        cls = r["exception_class"] or "(no class)"
        if cls not in classes:
            classes.append(cls)
        stacks[r["workflow"]][cls] = stacks[r["workflow"]].get(cls, 0) + r["exceptions_raised"]
    return _stacked_barh(classes, stacks, "exceptions raised in the week")


def completeness(rows: list[tuple[str, dict[str, Any]]], days: list[date]) -> str:
    """Share of ended runs with a complete lifecycle, per workflow (rows) and day (columns)."""
    if not rows:
        return _empty("No log-completeness rows this week.")
    workflows = sorted({r["workflow_id"] for _, r in rows})
    grid = [[float("nan")] * len(days) for _ in workflows]
    for _, r in rows:
        if r["share_complete"] is not None and r["day"] in days:
            grid[workflows.index(r["workflow_id"])][days.index(r["day"])] = r["share_complete"] * 100
    with matplotlib.rc_context({**RC, "axes.grid": False}):
        fig = _figure((9.5, max(1.8, 0.32 * len(workflows) + 0.9)))
        ax = fig.add_subplot()
        image = ax.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=80, vmax=100)
        ax.set_xticks(range(len(days)), [f"{d:%a %d}" for d in days])
        ax.set_yticks(range(len(workflows)), [_label(w) for w in workflows])
        fig.colorbar(image, ax=ax, label="% of ended runs complete")
        return _svg(fig)


def improvement(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Change against the baseline (%) per workflow for p90 cycle time, SLA breach rate and cost per run."""
    shown = {"cycle_time_p90_seconds": "p90 cycle time", "sla_breach_rate": "SLA breach rate",
             "human_hours_per_run": "human hours per run", "cost_per_run": "cost per run"}
    data: dict[str, dict[str, float]] = defaultdict(dict)
    for _, r in rows:
        if r["metric"] in shown and r["change_pct"] is not None:
            data[r["workflow"]][r["metric"]] = r["change_pct"]
    if not data:
        return _empty("No workflow has a comparable baseline yet (see the table).")
    names = list(data)
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, max(2.0, 0.5 * len(names) + 0.8)))
        ax = fig.add_subplot()
        height = 0.8 / len(shown)
        for i, (metric, label) in enumerate(shown.items()):
            ys = [n + (i - (len(shown) - 1) / 2) * height for n in range(len(names))]
            ax.barh(ys, [data[name].get(metric, 0.0) for name in names], height=height, label=label)
        ax.set_yticks(range(len(names)), [_label(n) for n in names])
        ax.invert_yaxis()
        ax.axvline(0, color="#444444", linewidth=1)
        ax.set_xlabel("change against the baseline, % (negative is better)")
        _legend(ax, len(shown))
        return _svg(fig)


def stage_failures(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Failure rate (%) of the stages shown, highest first."""
    if not rows:
        return _empty("No stage ran this week.")
    labels = [_label(f"{r['workflow']} · {r['stage']}", 60) for _, r in rows]
    with matplotlib.rc_context(RC):
        fig = _figure((9.5, max(2.0, 0.25 * len(rows) + 0.8)))
        ax = fig.add_subplot()
        ax.barh(range(len(rows)), [(r["failure_rate"] or 0) * 100 for _, r in rows], color="#d1495b")
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("stage runs that failed, % (the last attempt failed or timed out)")
        return _svg(fig)
