"""The numbers of the weekly command-center report, read from the published marts (never from raw
events, never recomputed): each function selects, filters and orders one mart, and returns a
`Table` the HTML shows as is and the charts draw from.

Weeks are ISO weeks (Monday 00:00 to Monday 00:00, UTC). The report week defaults to the latest
full week: the week before the one containing the build's as_of (marts.dim_as_of), the marts' own
rule for a complete week.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

#: weeks of history in the trend charts (the report week and the 11 before it)
TREND_WEEKS = 12


class ReportError(Exception):
    """The report cannot be produced (no marts, no events, a week outside the data)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: how the HTML formats the value (orchestration/lib/report/html.py FORMATS)
    kind: str = "text"


@dataclass
class Table:
    """One panel table: rows keyed for the browser test (``data-row``), cells keyed by column."""

    key: str
    caption: str
    mart: str
    columns: list[Column]
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: shown instead of the rows when the mart is missing or has nothing for the week
    empty_note: str | None = None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(text: str) -> date:
    """--week YYYY-MM-DD: the Monday that starts the ISO week (another day is refused, not moved)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"--week {text!r} is not a date (YYYY-MM-DD, the Monday that starts the ISO week)") from None
    if day.weekday() != 0:
        raise ReportError(f"--week {text} is a {day:%A}; give the Monday that starts the ISO week ({monday(day)})")
    return day


def relation_exists(con, name: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?", [name]
    ).fetchone()[0] > 0


def as_of(con) -> datetime:
    if not relation_exists(con, "dim_as_of"):
        raise ReportError("the published marts have no marts.dim_as_of; run `command-center build` first")
    row = con.execute("select as_of_ts from marts.dim_as_of").fetchone()
    if row is None or row[0] is None:
        raise ReportError("the marts hold no events yet (dim_as_of is empty): land events and build before reporting")
    return row[0]


def report_week(con, week: date | None) -> tuple[date, datetime]:
    """The report week (default: the latest full week before as_of's week) and the as_of instant."""
    instant = as_of(con)
    as_of_week = monday(instant.date())
    latest_full = as_of_week - timedelta(days=7)
    if week is None:
        return latest_full, instant
    if week > as_of_week:
        raise ReportError(f"--week {week} is after the data: the marts are as of {instant:%Y-%m-%d %H:%M} UTC "
                          f"(latest full week {latest_full})")
    return week, instant


def _rows(con, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _missing(con, table: Table, relation: str) -> bool:
    if relation_exists(con, relation):
        return False
    table.empty_note = f"marts.{relation} is not in the published marts (build the project to add it)."
    return True


def week_columns(week: date) -> list[date]:
    return [week - timedelta(days=7 * i) for i in range(TREND_WEEKS - 1, -1, -1)]


# ------------------------------------------------------------------------------------------------
# panels
# ------------------------------------------------------------------------------------------------

WORKFLOW_NAMES = "left join marts.dim_workflows as d on d.workflow_id = m.workflow_id"


def weekly_runs(con, week: date) -> list[dict[str, Any]]:
    """agg_workflow_weekly_all_regions over the trend weeks, with the workflow's name and cycle-time SLO."""
    if not relation_exists(con, "agg_workflow_weekly_all_regions"):
        return []
    return _rows(con, f"""
        select m.workflow_id, coalesce(d.workflow_name, m.workflow_id) as workflow_name, m.week_start,
               m.runs_completed, m.cycle_time_p50_seconds, m.cycle_time_p90_seconds, m.share_within_slo,
               d.cycle_time_slo_seconds
        from marts.agg_workflow_weekly_all_regions as m {WORKFLOW_NAMES}
        where m.week_start between ? and ?
        order by workflow_name, m.workflow_id, m.week_start""", [week_columns(week)[0], week])


def throughput_table(rows: list[dict[str, Any]], week: date) -> Table:
    weeks = week_columns(week)
    table = Table("throughput", "Runs completed per week (ended in the week), per workflow, all regions",
                  "agg_workflow_weekly_all_regions.runs_completed",
                  [Column("workflow", "Workflow")] + [Column(f"w{w.isoformat()}", f"{w:%d %b}", "int") for w in weeks])
    by_workflow: dict[str, dict[str, Any]] = {}
    for r in rows:
        cells = by_workflow.setdefault(r["workflow_id"], {"workflow": r["workflow_name"]})
        cells[f"w{r['week_start'].isoformat()}"] = r["runs_completed"]
    table.rows = list(by_workflow.items())
    if not table.rows:
        table.empty_note = "No runs in these twelve weeks."
    return table


def cycle_time_table(rows: list[dict[str, Any]], week: date) -> Table:
    table = Table("cycle_time", f"Cycle time of the runs completed in the week of {week}, against the SLO",
                  "agg_workflow_weekly_all_regions, dim_workflows.cycle_time_slo_seconds",
                  [Column("workflow", "Workflow"), Column("runs_completed", "Runs completed", "int"),
                   Column("cycle_time_p50_seconds", "p50", "hours"), Column("cycle_time_p90_seconds", "p90", "hours"),
                   Column("cycle_time_slo_seconds", "SLO (p90)", "hours"),
                   Column("share_within_slo", "Within SLO", "pct")])
    table.rows = [(r["workflow_id"], {"workflow": r["workflow_name"], **{c.key: r.get(c.key) for c in table.columns[1:]}})
                  for r in rows if r["week_start"] == week]
    if not table.rows:
        table.empty_note = f"No runs ended in the week of {week}."
    return table


def slo_table(con, week: date) -> Table:
    table = Table("slo", f"SLO attainment and error budget remaining per SLI, week of {week}",
                  "fct_slo_weekly_snapshot",
                  [Column("workflow", "Workflow"), Column("sli", "SLI"), Column("objective_pct", "Objective", "pct100"),
                   Column("attainment_pct", "Attainment", "pct100"), Column("good_events", "Good", "int"),
                   Column("valid_events", "Valid", "int"),
                   Column("error_budget_remaining_pct", "Error budget left", "pct100"),
                   Column("is_breached", "Breached", "bool")])
    if _missing(con, table, "fct_slo_weekly_snapshot"):
        return table
    rows = _rows(con, f"""
        select m.workflow_id, coalesce(d.workflow_name, m.workflow_id) as workflow, m.sli, m.objective_pct,
               m.attainment_pct, m.good_events, m.valid_events, m.error_budget_remaining_pct, m.is_breached
        from marts.fct_slo_weekly_snapshot as m {WORKFLOW_NAMES}
        where m.week_start = ?
        order by workflow, m.workflow_id, m.sli""", [week])
    table.rows = [(f"{r['workflow_id']}|{r['sli']}", r) for r in rows]
    if not rows:
        table.empty_note = (f"No SLO snapshot for the week of {week}: the weekly job (or a build) has not snapshotted "
                            "that week.")
    return table


def budget_table(con, week: date) -> Table:
    month = (week + timedelta(days=6)).replace(day=1)
    table = Table("budget", f"Exception budget, {month:%B %Y} (the month of the report week's last day)",
                  "agg_exception_budget_monthly",
                  [Column("workflow", "Workflow"), Column("runs_started", "Runs started", "int"),
                   Column("runs_with_exceptions", "With exceptions", "int"),
                   Column("exception_rate_pct", "Exception rate", "pct100"),
                   Column("budget_rate_pct", "Budget", "pct100"),
                   Column("budget_consumed_pct", "Budget consumed", "pct100"),
                   Column("budget_spent_to_date_pct", "Spent to date", "pct100"),
                   Column("projected_end_of_month_consumed_pct", "Projected at month end", "pct100"),
                   Column("budget_status", "Status"), Column("breach_action", "Breach action")])
    if _missing(con, table, "agg_exception_budget_monthly"):
        return table
    rows = _rows(con, f"""
        select m.workflow_id, coalesce(d.workflow_name, m.workflow_id) as workflow, m.is_current_month,
               m.runs_started, m.runs_with_exceptions, m.exception_rate_pct, m.budget_rate_pct,
               m.budget_consumed_pct, m.budget_spent_to_date_pct, m.projected_end_of_month_consumed_pct,
               m.budget_status, m.breach_action
        from marts.agg_exception_budget_monthly as m {WORKFLOW_NAMES}
        where m.month_start = ? and m.is_registered_workflow
        order by workflow, m.workflow_id""", [month])
    table.rows = [(r["workflow_id"], r) for r in rows]
    if not rows:
        table.empty_note = f"No exception-budget rows for {month:%B %Y}."
    return table


def backlog_table(con) -> Table:
    table = Table("backlog", "Open exceptions by routed owner, severity and age, as of the build",
                  "agg_exception_backlog",
                  [Column("backlog_rank", "Rank", "int"), Column("routed_owner", "Routed owner"),
                   Column("severity_label", "Severity"), Column("age_bucket", "Age"),
                   Column("open_exceptions", "Open", "int"), Column("untouched_exceptions", "Untouched", "int"),
                   Column("oldest_exception_id", "Oldest"), Column("oldest_age_seconds", "Oldest age", "age")])
    if _missing(con, table, "agg_exception_backlog"):
        return table
    rows = _rows(con, """
        select backlog_rank, routed_owner, severity_label, age_bucket, age_bucket_order, open_exceptions,
               untouched_exceptions, oldest_exception_id, oldest_age_seconds
        from marts.agg_exception_backlog order by backlog_rank""")
    table.rows = [(str(r["backlog_rank"]), r) for r in rows]
    if not rows:
        table.empty_note = "No open exceptions."
    return table


def oldest_exceptions_table(con, limit: int = 10) -> Table:
    table = Table("oldest_exceptions", f"The {limit} oldest open exceptions, by class and routed owner",
                  "fct_exceptions (is_open)",
                  [Column("exception_id", "Exception"), Column("workflow_id", "Workflow"),
                   Column("exception_class", "Class"), Column("routed_owner", "Routed owner"),
                   Column("severity", "Severity", "int"), Column("raised_at", "Raised", "ts"),
                   Column("age_seconds", "Age", "age"), Column("first_touch_breached", "First touch breached", "bool")])
    if _missing(con, table, "fct_exceptions"):
        return table
    rows = _rows(con, """
        select exception_id, workflow_id, exception_class, routed_owner, severity, raised_at, age_seconds,
               first_touch_breached
        from marts.fct_exceptions where is_open
        order by age_seconds desc, exception_id limit ?""", [limit])
    table.rows = [(r["exception_id"], r) for r in rows]
    if not rows:
        table.empty_note = "No open exceptions."
    return table


def leaderboard_table(con) -> Table:
    table = Table("leaderboard", "Owner leaderboard: who needs attention first (last 4 weeks to as_of)",
                  "agg_owner_leaderboard",
                  [Column("leaderboard_rank", "Rank", "int"), Column("owner", "Owner"), Column("owner_team", "Team"),
                   Column("workflows_owned", "Workflows", "int"),
                   Column("runs_completed_last_4_weeks", "Runs completed", "int"),
                   Column("share_within_slo_last_4_weeks", "Within SLO", "pct"),
                   Column("slo_breaches_last_4_weeks", "SLO breaches", "int"),
                   Column("open_exceptions", "Open exceptions", "int"),
                   Column("p90_time_to_first_touch_seconds", "First touch p90", "minutes"),
                   Column("exception_budget_status", "Budget")])
    if _missing(con, table, "agg_owner_leaderboard"):
        return table
    rows = _rows(con, f"select {', '.join(c.key for c in table.columns)} from marts.agg_owner_leaderboard "
                      "order by leaderboard_rank, owner")
    table.rows = [(r["owner"], r) for r in rows]
    if not rows:
        table.empty_note = "No registered owners."
    return table


def cost_rows(con, week: date) -> list[dict[str, Any]]:
    if not relation_exists(con, "agg_cost_to_serve_weekly"):
        return []
    return _rows(con, """
        select owner_team, region, week_start, currency, completed_runs, compute_cost, labor_hours, labor_cost,
               total_cost, cost_per_completed_run
        from marts.agg_cost_to_serve_weekly
        where grain = 'owner_team_region' and week_start between ? and ?
        order by owner_team, region, week_start""", [week_columns(week)[0], week])


def cost_table(rows: list[dict[str, Any]], week: date) -> Table:
    currency = next((r["currency"] for r in rows if r["currency"]), "")
    table = Table("cost", f"Cost to serve per owner team and region, week of {week} ({currency})",
                  "agg_cost_to_serve_weekly (grain owner_team_region)",
                  [Column("owner_team", "Team"), Column("region", "Region"),
                   Column("completed_runs", "Completed runs", "int"), Column("compute_cost", "Compute", "money"),
                   Column("labor_hours", "Labor hours", "num"), Column("labor_cost", "Labor", "money"),
                   Column("total_cost", "Total", "money"),
                   Column("cost_per_completed_run", "Per completed run", "money")])
    table.rows = [(f"{r['owner_team']}|{r['region']}", r) for r in rows if r["week_start"] == week]
    if not table.rows:
        table.empty_note = f"No cost rows for the week of {week}."
    return table


def drilldown_table(con, week: date) -> Table:
    table = Table("drilldown", f"Exceptions raised in the week of {week} by workflow, class and routed owner",
                  "agg_exception_aging_weekly",
                  [Column("workflow", "Workflow"), Column("exception_class", "Class"),
                   Column("routed_owner", "Routed owner"), Column("exceptions_raised", "Raised", "int"),
                   Column("exceptions_acknowledged", "Acknowledged", "int"),
                   Column("exceptions_resolved", "Resolved", "int"),
                   Column("time_to_first_touch_p90_seconds", "First touch p90", "minutes"),
                   Column("time_to_resolution_p90_seconds", "Resolution p90", "hours"),
                   Column("first_touch_breaches", "First-touch breaches", "int"),
                   Column("resolution_breaches", "Resolution breaches", "int")])
    if _missing(con, table, "agg_exception_aging_weekly"):
        return table
    rows = _rows(con, f"""
        select m.workflow_id, coalesce(d.workflow_name, m.workflow_id) as workflow, m.exception_class,
               m.routed_owner, m.exceptions_raised, m.exceptions_acknowledged, m.exceptions_resolved,
               m.time_to_first_touch_p90_seconds, m.time_to_resolution_p90_seconds, m.first_touch_breaches,
               m.resolution_breaches
        from marts.agg_exception_aging_weekly as m {WORKFLOW_NAMES}
        where m.week_start = ? and m.exceptions_raised > 0
        order by m.exceptions_raised desc, workflow, m.exception_class, m.routed_owner""", [week])
    table.rows = [(f"{r['workflow_id']}|{r['exception_class']}|{r['routed_owner']}", r) for r in rows]
    if not rows:
        table.empty_note = f"No exceptions raised in the week of {week}."
    return table


def completeness_table(con, week: date) -> Table:
    table = Table("completeness", f"Log completeness per workflow and day, week of {week}",
                  "agg_log_completeness_daily",
                  [Column("workflow_id", "Workflow"), Column("day", "Day", "date"), Column("events", "Events", "int"),
                   Column("runs_started", "Runs started", "int"), Column("runs_ended", "Runs ended", "int"),
                   Column("runs_with_complete_lifecycle", "Complete lifecycle", "int"),
                   Column("share_complete", "Share complete", "pct"), Column("checks_failed", "Checks failed", "int"),
                   Column("failed_checks", "Failed checks")])
    if _missing(con, table, "agg_log_completeness_daily"):
        return table
    rows = _rows(con, """
        select workflow_id, day, events, runs_started, runs_ended, runs_with_complete_lifecycle, share_complete,
               checks_failed, failed_checks
        from marts.agg_log_completeness_daily
        where day between ? and ?
        order by workflow_id, day""", [week, week + timedelta(days=6)])
    table.rows = [(f"{r['workflow_id']}|{r['day'].isoformat()}", r) for r in rows]
    if not rows:
        table.empty_note = f"No log-completeness rows in the week of {week}."
    return table


def improvement_table(con) -> Table:
    table = Table("improvement", "Improvement against the baseline (latest full weeks vs the register's baseline window)",
                  "agg_improvement_vs_baseline",
                  [Column("workflow", "Workflow"), Column("metric", "Metric"), Column("unit", "Unit"),
                   Column("baseline_week_from", "Baseline from", "date"), Column("baseline_week_to", "Baseline to", "date"),
                   Column("recent_week_from", "Recent from", "date"), Column("recent_week_to", "Recent to", "date"),
                   Column("baseline_value", "Baseline", "by_unit"), Column("recent_value", "Recent", "by_unit"),
                   Column("change_pct", "Change", "signed_pct100"), Column("comparison_status", "Status")])
    if _missing(con, table, "agg_improvement_vs_baseline"):
        return table
    rows = _rows(con, f"""
        select m.workflow_id, coalesce(d.workflow_name, m.workflow_id) as workflow, m.metric, m.metric_order,
               m.unit, m.baseline_week_from, m.baseline_week_to, m.recent_week_from, m.recent_week_to,
               m.baseline_weeks, m.recent_weeks, m.baseline_value, m.recent_value, m.change_value, m.change_pct,
               m.comparison_status
        from marts.agg_improvement_vs_baseline as m {WORKFLOW_NAMES}
        order by workflow, m.workflow_id, m.metric_order""")
    table.rows = [(f"{r['workflow_id']}|{r['metric']}", r) for r in rows]
    if not rows:
        table.empty_note = "No registered workflow has data yet."
    return table


def stages_table(con, week: date, limit: int = 15) -> Table:
    table = Table("stages", f"Failure rate by step: the {limit} stages with the highest failure rate, week of {week}",
                  "agg_stage_weekly",
                  [Column("workflow", "Workflow"), Column("stage", "Stage"), Column("stage_runs", "Stage runs", "int"),
                   Column("stage_runs_failed", "Failed", "int"), Column("failure_rate", "Failure rate", "pct"),
                   Column("stage_runs_2_attempts", "2 attempts", "int"),
                   Column("stage_runs_3_attempts", "3 attempts", "int"),
                   Column("stage_runs_4plus_attempts", "4+ attempts", "int"),
                   Column("timeout_rate", "Timeout rate", "pct"),
                   Column("stage_duration_p90_seconds", "Duration p90", "minutes")])
    if _missing(con, table, "agg_stage_weekly"):
        return table
    rows = _rows(con, f"""
        select m.workflow_id, coalesce(d.workflow_name, m.workflow_id) as workflow, m.stage, m.stage_runs,
               m.stage_runs_failed, m.failure_rate, m.stage_runs_2_attempts, m.stage_runs_3_attempts,
               m.stage_runs_4plus_attempts, m.timeout_rate, m.stage_duration_p90_seconds
        from marts.agg_stage_weekly as m {WORKFLOW_NAMES}
        where m.week_start = ? and m.stage_runs > 0
        order by m.failure_rate desc, m.stage_runs desc, m.workflow_id, m.stage limit ?""", [week, limit])
    table.rows = [(f"{r['workflow_id']}|{r['stage']}", r) for r in rows]
    if not rows:
        table.empty_note = f"No stage ran in the week of {week}."
    return table
