"""The report's text, pure: the plain-language improvement line per workflow and the cell formats
(orchestration/lib/report/headlines.py, html.py); the page itself is tested in a real browser
(tests/integration/test_report.py)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from orchestration.lib.report.data import ReportError, parse_week
from orchestration.lib.report.headlines import improvement_lines, workflow_line
from orchestration.lib.report.html import format_value, raw_value

WINDOWS = {"baseline_week_from": date(2026, 9, 7), "baseline_week_to": date(2026, 10, 12), "recent_weeks": 4,
           "recent_week_from": date(2026, 10, 26), "recent_week_to": date(2026, 11, 16)}


def _row(metric, baseline, recent, status="comparable", unit="seconds"):
    change = None if status != "comparable" else recent - baseline
    pct = None if change is None or baseline == 0 else 100 * change / baseline
    return {"workflow_id": "invoice_posting_v1", "workflow": "Invoice posting", "metric": metric, "unit": unit,
            "baseline_value": baseline, "recent_value": recent, "change_value": change, "change_pct": pct,
            "comparison_status": status, **WINDOWS}


def test_the_line_of_the_seed_example():
    rows = {r["metric"]: r for r in (
        _row("cycle_time_p90_seconds", 3.4 * 3600, 1.9 * 3600),
        _row("sla_breach_rate", 0.09, 0.06, unit="share"),
        _row("human_hours_for_recent_volume", 500.0, 300.0, unit="hours"),
        _row("cost_per_run", 40.0, 30.0, unit="USD"),
    )}
    assert workflow_line("Invoice posting", rows) == (
        "Invoice posting: p90 cycle time 3.4 h → 1.9 h (-44%); SLA breaches 9.0% → 6.0% (-33%); "
        "200 human hours returned (40% of the hours at baseline hours per run); cost per run 40.00 → 30.00 USD (-25%)."
    )


def test_more_hours_and_short_durations_and_no_change():
    rows = {r["metric"]: r for r in (
        _row("cycle_time_p90_seconds", 1500.0, 1503.0),
        _row("human_hours_for_recent_volume", 10.0, 12.5, unit="hours"),
    )}
    assert workflow_line("W", rows) == (
        "W: p90 cycle time 25 min → 25 min (±0%); 2 more human hours than at baseline hours per run (+25%)."
    )


@pytest.mark.parametrize(("status", "says"), [
    ("baseline_not_ended", "W: not enough history yet - the baseline (2026-09-07 to 2026-10-12) has not ended; "
                           "the first comparison is possible after 2026-10-19."),
    ("windows_overlap", "W: the baseline (2026-09-07 to 2026-10-12) overlaps the latest 4 full weeks; "
                        "no comparison until they are apart."),
    ("no_recent_value", "W: no completed run in the recent window"),
])
def test_a_workflow_without_a_comparison_says_why(status, says):
    line = workflow_line("W", {"cycle_time_p90_seconds": _row("cycle_time_p90_seconds", 10.0, None, status)})
    assert line.startswith(says)


def test_one_line_per_workflow_in_row_order():
    a = _row("cycle_time_p90_seconds", 7200.0, 3600.0)
    b = {**a, "workflow_id": "b", "workflow": "B"}
    assert [line.split(":")[0] for line in improvement_lines([("x", b), ("y", a)])] == ["B", "Invoice posting"]


@pytest.mark.parametrize(("kind", "value", "text"), [
    ("hours", 5400.0, "1.50 h"), ("minutes", 90.0, "1.5 min"), ("age", 90000.0, "1.0 d"), ("age", 7200.0, "2.0 h"),
    ("pct", 0.2345, "23.4%"), ("pct100", 97.0, "97.0%"), ("signed_pct100", -44.1, "-44.1%"), ("int", 12345, "12,345"),
    ("money", 1234.5, "1,234.50"), ("bool", False, "no"), ("ts", datetime(2026, 11, 2, 9, 5), "2026-11-02 09:05 UTC"),
    ("text", None, "–"),
])
def test_cell_formats(kind, value, text):
    assert format_value(kind, value) == text


def test_by_unit_and_raw_values():
    assert format_value("by_unit", 7200.0, {"unit": "seconds"}) == "2.00 h"
    assert format_value("by_unit", 0.5, {"unit": "share"}) == "50.0%"
    assert format_value("by_unit", 12.0, {"unit": "EUR"}) == "12.00 EUR"
    assert [raw_value(v) for v in (None, True, 0.1, 3, date(2026, 1, 5), datetime(2026, 1, 5, 1, 2, 3), "<b>")] == [
        "", "true", "0.1", "3", "2026-01-05", "2026-01-05 01:02:03", "<b>"]


def test_week_must_be_a_monday():
    assert parse_week("2026-11-16") == date(2026, 11, 16)
    with pytest.raises(ReportError, match=r"is a Sunday; give the Monday that starts the ISO week \(2026-11-16\)"):
        parse_week("2026-11-22")
    with pytest.raises(ReportError, match="is not a date"):
        parse_week("16/11/2026")
