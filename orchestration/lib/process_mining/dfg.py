"""Render a workflow's directly-follows graph from ``marts.agg_directly_follows_weekly``.

The picture shows, for one workflow and one ISO week (default: the latest week the mart has for the
workflow), every edge with its count and p50 transition time, start edges from '▶' and end edges to
'■'. It reads the mart only (percentiles do not add up across weeks, so one week is one picture).
Used by ``command-center dfg`` and embeddable in reports (``dfg_svg`` returns the SVG text).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import graphviz

START, END = "▶", "■"

EDGES_SQL = """
select from_activity, to_activity, edge_kind, edge_count, case_count, p50_transition_seconds
from marts.agg_directly_follows_weekly
where workflow_id = ? and week_start = ?
order by edge_count desc, from_activity, to_activity
"""


class DfgError(ValueError):
    """No such workflow or week in the mart (the message says what there is)."""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    count: int
    cases: int
    p50_seconds: float | None


def format_duration(seconds: float | None) -> str:
    """A short human duration: 45s, 12m, 3.5h, 2.1d ('' for None)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def latest_week(con, workflow: str) -> date:
    row = con.execute(
        "select max(week_start) from marts.agg_directly_follows_weekly where workflow_id = ?", [workflow]
    ).fetchone()
    if row is None or row[0] is None:
        known = [r[0] for r in con.execute(
            "select distinct workflow_id from marts.agg_directly_follows_weekly order by 1").fetchall()]
        raise DfgError(f"no directly-follows edges for workflow {workflow!r}; workflows with edges: "
                       f"{', '.join(known) or '(none: land events and build first)'}")
    return row[0]


def load_edges(con, workflow: str, week: date | None = None) -> tuple[date, list[Edge]]:
    """The workflow's edges of the ISO week holding ``week`` (default: its latest week in the mart)."""
    week = week - timedelta(days=week.weekday()) if week else latest_week(con, workflow)
    rows = con.execute(EDGES_SQL, [workflow, week]).fetchall()
    if not rows:
        weeks = [str(r[0]) for r in con.execute(
            "select distinct week_start from marts.agg_directly_follows_weekly where workflow_id = ? order by 1",
            [workflow]).fetchall()]
        raise DfgError(f"no edges for workflow {workflow!r} in the week of {week}; weeks with edges: "
                       f"{', '.join(weeks) or '(none)'}")
    return week, [Edge(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]


def build_graph(workflow: str, week: date, edges: list[Edge]) -> graphviz.Digraph:
    """The Graphviz graph: edge label = count and p50 time; pen width grows with the count."""
    graph = graphviz.Digraph(name="dfg", graph_attr={
        "rankdir": "LR", "label": f"{workflow}: directly-follows graph, week of {week} (count, p50 time)",
        "labelloc": "t", "fontname": "Helvetica", "fontsize": "12"})
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica",
               fontsize="10")
    graph.attr("edge", fontname="Helvetica", fontsize="9", color="#4a5a78")
    top = max(e.count for e in edges)
    activities = sorted({e.source for e in edges} | {e.target for e in edges})
    for name in activities:
        if name in (START, END):
            graph.node(name, label=name, shape="circle", style="filled",
                       fillcolor="#9ccc65" if name == START else "#ef9a9a", width="0.3")
        else:
            graph.node(name, label=name)
    for e in edges:
        label = f"{e.count}" + (f" | {format_duration(e.p50_seconds)}" if e.p50_seconds is not None else "")
        graph.edge(e.source, e.target, label=label, penwidth=f"{1 + 4 * e.count / top:.2f}",
                   style="dashed" if e.kind != "transition" else "solid")
    return graph


def dfg_svg(con, workflow: str, week: date | None = None) -> str:
    """The SVG text of the workflow's directly-follows graph (for reports to embed)."""
    week, edges = load_edges(con, workflow, week)
    return build_graph(workflow, week, edges).pipe(format="svg").decode("utf-8")


def write_dfg(con, workflow: str, out: Path, week: date | None = None) -> tuple[date, int]:
    """Write the picture to ``out`` (format from its extension: .svg, .png, .pdf, .dot); returns (week, edges)."""
    week, edges = load_edges(con, workflow, week)
    graph = build_graph(workflow, week, edges)
    suffix = out.suffix.lower().lstrip(".") or "svg"
    if suffix == "dot":
        out.write_text(graph.source, encoding="utf-8")
    elif suffix in ("svg", "png", "pdf"):
        out.write_bytes(graph.pipe(format=suffix))
    else:
        raise DfgError(f"--out {out}: use a .svg, .png, .pdf or .dot file")
    return week, len(edges)
