"""The weekly SLO snapshot's pure helpers: partition key -> dbt vars, rows -> markdown summary."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestration.lib.slo_summary import (
    SUMMARY_COLUMNS,
    parse_week,
    snapshot_week_vars,
    summary_counts,
    summary_markdown,
    summary_query,
)

WEEK = date(2026, 11, 16)


def row(workflow_id: str, sli: str, **overrides) -> dict:
    r = {
        "workflow_id": workflow_id,
        "sli": sli,
        "objective_pct": 95.0,
        "attainment_pct": 100.0,
        "good_events": 10,
        "valid_events": 10,
        "pending_events": 0,
        "is_breached": False,
        "error_budget_events": 0.5,
        "error_budget_remaining_events": 0.5,
        "error_budget_remaining_pct": 100.0,
        "is_complete_week": True,
        "as_of_ts": datetime(2026, 11, 23, 0, 5),
    }
    r.update(overrides)
    assert set(r) == set(SUMMARY_COLUMNS)
    return r


def table_rows(markdown: str) -> list[list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| workflow")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


@pytest.mark.parametrize("key", ["2026-11-16", "2025-01-06", "2024-12-30"])
def test_a_monday_is_a_partition_and_becomes_the_snapshot_week_var(key):
    assert snapshot_week_vars(key) == {"snapshot_week": key}
    assert parse_week(key).weekday() == 0


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2026-11-17", "Monday"),  # a Tuesday
        ("2026-11-22", "Sunday"),
        ("2026-W47", "ISO date"),
        ("", "ISO date"),
        ("2026-02-30", "ISO date"),
    ],
)
def test_anything_but_a_monday_is_refused_before_dbt_runs(key, message):
    with pytest.raises(ValueError, match=message):
        snapshot_week_vars(key)


def test_the_query_reads_one_week_of_the_relation_the_manifest_names():
    sql = summary_query("marts", 'odd"name')
    assert 'from "marts"."odd""name"' in sql
    assert sql.endswith("where week_start = ? order by workflow_id, sli")
    assert all(column in sql for column in SUMMARY_COLUMNS)


def test_markdown_has_one_row_per_workflow_and_sli_with_objective_attainment_breach_and_budget():
    rows = [
        row("wf_b", "run_success", objective_pct=80.0, attainment_pct=66.666667, good_events=4, valid_events=6,
            is_breached=True, error_budget_events=1.2, error_budget_remaining_events=-0.8,
            error_budget_remaining_pct=-66.666667),
        row("wf_b", "cycle_time_within_slo", objective_pct=90.0, attainment_pct=75.0, good_events=3, valid_events=4,
            error_budget_events=0.4, error_budget_remaining_events=-0.6, error_budget_remaining_pct=-150.0,
            is_breached=True),
        row("wf_a", "exception_resolution_within_slo", valid_events=0, good_events=0, attainment_pct=None,
            pending_events=2, error_budget_events=0.0, error_budget_remaining_events=0.0,
            error_budget_remaining_pct=None),
        row("wf_a", "run_success"),
    ]
    md = summary_markdown(WEEK, rows)

    assert md.startswith("### SLOs for the ISO week 2026-W47 (2026-11-16 – 2026-11-22, UTC)")
    assert "**2 of 3 measured SLOs breached** across 2 workflows: wf_b / cycle_time_within_slo, wf_b / run_success." in md
    assert "the week is complete" in md
    assert "| workflow | SLI | objective | attainment | good / valid | breached | error budget left |" in md
    # sorted by workflow, then the SLIs in their documented order
    assert table_rows(md) == [
        ["wf_a", "run_success", "95%", "100%", "10 / 10", "no", "0.5 of 0.5 events (100%)"],
        ["wf_a", "exception_resolution_within_slo", "95%", "n/a (no valid events)", "0 / 0 (+2 pending)", "no", "–"],
        ["wf_b", "cycle_time_within_slo", "90%", "75%", "3 / 4", "**yes**", "-0.6 of 0.4 events (-150%)"],
        ["wf_b", "run_success", "80%", "66.67%", "4 / 6", "**yes**", "-0.8 of 1.2 events (-66.7%)"],
    ]
    assert summary_counts(rows) == {"rows": 4, "workflows": 2, "measured_slos": 3, "breaches": 2}


def test_an_incomplete_week_says_so_and_when():
    md = summary_markdown(WEEK, [row("wf", "run_success", is_complete_week=False, as_of_ts=datetime(2026, 11, 22, 23, 50))])
    assert "As of 2026-11-22 23:50 UTC" in md
    assert "the week is not complete" in md and "re-run" in md


def test_an_empty_week_explains_itself_instead_of_an_empty_table():
    md = summary_markdown(WEEK, [])
    assert "No rows for this week" in md
    assert "|" not in md
    assert summary_counts([]) == {"rows": 0, "workflows": 0, "measured_slos": 0, "breaches": 0}


def test_pipes_in_values_do_not_break_the_table():
    md = summary_markdown(WEEK, [row("weird|wf", "run_success")])
    assert "weird\\|wf" in md
    assert len(table_rows(md)[0]) == 7


def test_the_headline_names_a_few_breaches_and_counts_the_rest():
    rows = [row(f"wf{i:02d}", "run_success", is_breached=True) for i in range(11)]
    md = summary_markdown(WEEK, rows)
    headline = md.splitlines()[2]
    assert headline.startswith("**11 of 11 measured SLOs breached** across 11 workflows: wf00 / run_success")
    assert headline.endswith("and 3 more.")
    assert len(table_rows(md)) == 11
