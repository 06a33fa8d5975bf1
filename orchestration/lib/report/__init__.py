"""The weekly executive report of the command center: one self-contained HTML file with charts.

``command-center report [--week YYYY-MM-DD] --out report.html`` and the Dagster asset
``weekly_command_center_report`` both call `write_report`. The numbers come from the published,
read-only copy of the marts (orchestration/lib/publish.py), never from raw events:

- data.py       one query per panel over one mart (select, filter, order; no metric recomputed)
- charts.py     matplotlib (Agg) -> inline SVG
- headlines.py  the plain-language improvement line per workflow
- html.py       the page (Jinja, autoescaped), print CSS, tables with data-row / data-col / data-value

Panels and what they read: docs/report.md.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from orchestration.lib.report import charts, data
from orchestration.lib.report.data import ReportError, parse_week
from orchestration.lib.report.headlines import improvement_lines, windows_note
from orchestration.lib.report.html import Panel, render

__all__ = ["Report", "ReportError", "build_report", "parse_week", "published_marts_path", "write_report"]


@dataclass(frozen=True)
class Report:
    html: str
    week: date
    as_of: datetime
    headlines: list[str]
    panels: list[Panel]

    def markdown_preview(self, path: Path | None = None) -> str:
        """A short markdown summary (the Dagster materialization's preview)."""
        lines = [f"**Command-center report, ISO week of {self.week}** (marts as of {self.as_of:%Y-%m-%d %H:%M} UTC)"]
        if path is not None:
            lines.append(f"\nFile: `{path}`")
        lines.append("")
        lines += [f"- {line}" for line in self.headlines] or ["- no improvement figures yet"]
        for panel in self.panels:
            for table in panel.tables:
                lines.append(f"\n{table.caption}: {len(table.rows)} rows" + (f" ({table.empty_note})" if table.empty_note else ""))
        return "\n".join(lines)


def _panels(con, week: date) -> tuple[list[Panel], list[str]]:
    weeks = data.week_columns(week)
    weekly = data.weekly_runs(con, week)
    improvement = data.improvement_table(con)
    lines = improvement_lines(improvement.rows)
    slo = data.slo_table(con, week)
    budget = data.budget_table(con, week)
    backlog, oldest = data.backlog_table(con), data.oldest_exceptions_table(con)
    leaderboard = data.leaderboard_table(con)
    costs = data.cost_rows(con, week)
    drill = data.drilldown_table(con, week)
    completeness = data.completeness_table(con, week)
    stages = data.stages_table(con, week)
    days = [week + timedelta(days=i) for i in range(7)]
    panels = [
        Panel("improvement", "Improvement against the baseline",
              f"{windows_note(improvement.rows)} The baseline window is the register's (default: a workflow's first "
              "six full weeks of data). Lower is better for every metric. Hours returned = the hours the recent "
              "volume would have taken at baseline hours per run, less the hours it took.",
              charts.improvement(improvement.rows), "Change against the baseline per workflow (%)", lines, [improvement]),
        Panel("throughput", "Throughput: runs completed per week",
              f"The twelve ISO weeks to the week of {week}, per workflow, all regions.",
              charts.throughput(weekly, weeks), "Runs completed per week per workflow",
              tables=[data.throughput_table(weekly, week)]),
        Panel("cycle_time", "Cycle time: p50 and p90 against the SLO",
              "Completed runs by the week they ended; the dashed line is the workflow's p90 cycle-time SLO.",
              charts.cycle_time(weekly, weeks), "p50 and p90 cycle time (hours) per week, with the SLO line",
              tables=[data.cycle_time_table(weekly, week)]),
        Panel("slo", "SLO attainment and error budget", f"From the weekly SLO snapshot of the week of {week}.",
              charts.slo_budget(slo.rows), "Error budget remaining per workflow and SLI", tables=[slo]),
        Panel("budget", "Exception-budget burn this month",
              "Share of runs raising exceptions against the register's monthly budget; for the month in progress, "
              "the budget spent to date and its projection to month end.",
              charts.budget_burn(budget.rows), "Exception budget consumed per workflow", tables=[budget]),
        Panel("aging", "Aging exceptions", "Open exceptions as of the build, oldest first, with the routed owner.",
              charts.backlog(backlog.rows), "Open exceptions per routed owner by age", tables=[backlog, oldest]),
        Panel("leaderboard", "Owner leaderboard", "Rank 1 needs attention first (budget status, then SLO breaches).",
              charts.leaderboard(leaderboard.rows), "Share of runs within SLO per owner", tables=[leaderboard]),
        Panel("cost", "Cost to serve per completed run",
              "Compute plus human labor per completed run, per owner team and region; twelve weeks.",
              charts.cost_trend(costs, weeks), "Cost per completed run per team and region",
              tables=[data.cost_table(costs, week)]),
        Panel("drilldown", "Drill-down: exceptions by class",
              "By workflow, exception class and routed owner, with first-touch and resolution SLO breaches. The marts "
              "hold the exception class as the cause; the event contract carries no finer root-cause field.",
              charts.drilldown(drill.rows), "Exceptions raised per class, by workflow", tables=[drill]),
        Panel("stages", "Failure rate by step",
              "The stages that failed most often in the week, with their retries and timeouts.",
              charts.stage_failures(stages.rows), "Failure rate of the stages that failed most", tables=[stages]),
        Panel("completeness", "Log completeness",
              "Per workflow and day: ended runs whose lifecycle is complete, and the log checks that failed.",
              charts.completeness(completeness.rows, days), "Share of ended runs with a complete lifecycle",
              tables=[completeness]),
    ]
    return panels, lines


def build_report(con, week: date | None = None, *, source: str = "published marts") -> Report:
    """The report for ``week`` (a Monday; default the latest full week) from a connection to the marts."""
    week, instant = data.report_week(con, week)
    panels, lines = _panels(con, week)
    html = render(panels, week=week, week_end=week + timedelta(days=6), as_of=instant, source=source)
    return Report(html, week, instant, lines, panels)


def published_marts_path(settings) -> Path:
    """The published marts file of ``settings`` (COMMAND_CENTER_PUBLISHED_DUCKDB, else beside the warehouse)."""
    from orchestration.settings import published_path_for

    return settings.published_duckdb_path or published_path_for(settings.duckdb_path)


def write_report(published: Path | str, out: Path | str, week: date | None = None) -> Report:
    """Build the report from the published marts file and write it to ``out`` atomically (a reader
    sees the previous file or the new one, never half of one)."""
    from orchestration.lib.publish import NotPublishedError
    from orchestration.lib.warehouse import connect
    from orchestration.settings import PUBLISHED_DUCKDB_ENV

    published = Path(published)
    if not published.exists():
        raise NotPublishedError(
            f"no published marts yet at {published}; run `command-center build` (or `make demo`) to build and publish them"
        )
    con = connect(published, read_only=True, setting=PUBLISHED_DUCKDB_ENV)
    try:
        report = build_report(con, week, source=f"read from the published marts ({published.name})")
    finally:
        con.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(report.html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report
