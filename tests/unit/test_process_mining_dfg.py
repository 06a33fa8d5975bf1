"""The directly-follows graph picture's pure parts (orchestration/lib/process_mining/dfg.py)."""
from __future__ import annotations

from datetime import date

from orchestration.lib.process_mining.dfg import END, START, Edge, build_graph, format_duration


def test_format_duration():
    assert [format_duration(s) for s in (None, 0, 59.4, 60, 3599, 3600, 5400, 86400 * 2.5)] == [
        "", "0s", "59s", "1m", "60m", "1.0h", "1.5h", "2.5d"]


def test_graph_labels_widths_and_start_end_nodes():
    edges = [Edge(START, "a", "start", 4, 4, None), Edge("a", "b", "transition", 4, 3, 90.0),
             Edge("b", "a", "transition", 1, 1, 7200.0), Edge("b", END, "end", 4, 4, None)]
    source = build_graph("wf", date(2026, 11, 16), edges).source
    assert "wf: directly-follows graph, week of 2026-11-16 (count, p50 time)" in source
    assert 'a -> b [label="4 | 2m" penwidth=5.00 style=solid]' in source
    assert 'b -> a [label="1 | 2.0h" penwidth=2.00 style=solid]' in source
    assert f'"{START}" -> a [label=4 penwidth=5.00 style=dashed]' in source
    assert f'b -> "{END}" [label=4 penwidth=5.00 style=dashed]' in source
    assert f'"{START}" [label="{START}"' in source and "shape=circle" in source
