"""Plain-text reports read from the warehouse: `command-center status` and the demo summary."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from orchestration.lib.dbt import last_run_results
from orchestration.lib.warehouse import connect
from orchestration.settings import Settings


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table (right-aligned numbers)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in cells if r[i]) and bool(cells) for i in range(len(headers))]

    def fmt(row):
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(row, widths, numeric, strict=True)).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in cells)])


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("%h").replace(",", ""))
        return True
    except ValueError:
        return False


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}h"


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}%"


def _relation_exists(con, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def _open_marts(settings: Settings):
    """The read-only connection the demo summary reads (the one place that chooses the DuckDB file):
    the published marts, which no build or landing ever holds (orchestration/lib/publish.py)."""
    from orchestration.lib.publish import connect_published

    return connect_published(settings)


def last_full_week(as_of: datetime) -> date:
    """The Monday of the latest ISO week (Monday..Sunday, UTC) that ends on or before the day of as_of,
    so Monday's report covers the week that ended the night before."""
    day_after = as_of.date() + timedelta(days=1)
    return day_after - timedelta(days=day_after.weekday() + 7)


def demo_summary(settings: Settings) -> str:
    """The demo summary, every figure read from the marts (each metric is defined once, in dbt):
    per workflow, runs completed in the last full ISO week, p50/p90 cycle time and share within SLO
    (agg_workflow_weekly_all_regions) and rows quarantined; the five oldest open exceptions; the
    exception budget month to date; the cost to serve of that week; what landing did
    (fct_landed_files, agg_quarantine_reasons); then where things are. The as-of instant is the
    build's (dim_as_of: the latest event, or the pinned dbt var as_of)."""
    con = _open_marts(settings)
    try:
        as_of = build_as_of(con)
        if as_of is None:
            return "the warehouse holds no events yet"
        week = last_full_week(as_of)
        from orchestration.lib.alert_report import alerts_section  # here: it imports this module
        from orchestration.lib.governance_report import governance_section  # here: it imports this module
        from orchestration.lib.operations.report import operations_section  # here: it imports this module

        lines = [
            f"Last full ISO week: {week} to {week + timedelta(days=6)} (UTC); data as of {as_of:%Y-%m-%d %H:%M} UTC",
            "",
            *_runs_section(con, week),
            *_oldest_exceptions_section(con, as_of),
            *_budget_section(con),
            *_cost_section(con, week),
            *_landing_section(con),
            *operations_section(con),
            *alerts_section(con),
            *governance_section(con),
        ]
    finally:
        con.close()
    return "\n".join([*lines, *_where_section(settings)])


def build_as_of(con) -> datetime | None:
    """The instant the marts were computed as of (marts.dim_as_of); None with no events."""
    row = con.execute("select as_of_ts from marts.dim_as_of").fetchone()
    return None if row is None else row[0]


def weekly_runs_rows(con, week: date) -> list[tuple]:
    """Per workflow (registered first), for the ISO week starting `week`: label, runs completed, p50 and
    p90 cycle time (seconds), share within SLO, rows quarantined. Workflows known only from quarantined
    rows, and rows whose workflow_id is unreadable or unknown (pooled), come last."""
    return con.execute(
        """
        with week as (
            select workflow_id, runs_completed, cycle_time_p50_seconds, cycle_time_p90_seconds, share_within_slo
            from marts.agg_workflow_weekly_all_regions
            where week_start = ?
        ),
        workflows as (select workflow_id, is_registered from marts.dim_workflows),
        quarantined as (
            select coalesce(w.workflow_id, '(other or unreadable workflow_id)') as workflow_id,
                   sum(q.rows_quarantined) as rows_quarantined
            from marts.agg_quarantine_reasons as q left join workflows as w on q.workflow_id = w.workflow_id
            group by 1
        ),
        all_rows as (
            select workflow_id, is_registered from workflows
            union all
            select workflow_id, null from quarantined where workflow_id not in (select workflow_id from workflows)
        )
        select w.workflow_id || case when w.is_registered = false then ' (unregistered)' else '' end,
               coalesce(week.runs_completed, 0), week.cycle_time_p50_seconds, week.cycle_time_p90_seconds,
               week.share_within_slo, coalesce(q.rows_quarantined, 0)
        from all_rows as w
        left join week using (workflow_id)
        left join quarantined as q using (workflow_id)
        order by w.is_registered desc nulls last, w.workflow_id
        """,
        [week],
    ).fetchall()


def _runs_section(con, week: date) -> list[str]:
    rows = weekly_runs_rows(con, week)
    return [
        format_table(
            ["workflow", "runs completed", "p50 cycle", "p90 cycle", "within SLO", "rows quarantined"],
            [(wf, n, _hours(p50), _hours(p90), _pct(share), q) for wf, n, p50, p90, share, q in rows],
        ),
        "",
    ]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60:02d}m"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _oldest_exceptions_section(con, as_of: datetime) -> list[str]:
    oldest = con.execute(
        """select exception_id, workflow_id, coalesce(exception_class, 'UNKNOWN'), 'sev' || coalesce(cast(severity as varchar), '?'),
                  routed_owner, age_seconds, case when first_touch_at is null then 'no' else 'yes' end,
                  case when resolution_breached then 'yes' when resolution_breached = false then 'no' else '' end
           from marts.fct_exceptions where is_open
           order by raised_at, exception_id limit 5"""
    ).fetchall()
    return [
        f"Top 5 oldest open exceptions (as of {as_of:%Y-%m-%d %H:%M} UTC; routed owner = who must act):",
        format_table(
            ["exception", "workflow", "class", "sev", "routed owner", "age", "touched", "over SLO"],
            [(e, w, c, sv, o, _age(a), t, b) for e, w, c, sv, o, a, t, b in oldest],
        ) if oldest else "  none open",
        "",
    ]


def _budget_section(con) -> list[str]:
    budget = con.execute(
        """select workflow_id, runs_started, exception_rate_pct, budget_rate_pct, budget_consumed_pct,
                  budget_status, case when budget_status = 'ok' then '' else breach_action end
           from marts.agg_exception_budget_monthly
           where is_current_month and is_registered_workflow order by workflow_id"""
    ).fetchall()
    month = con.execute("select max(month_start) from marts.agg_exception_budget_monthly where is_current_month").fetchone()[0]
    return [
        f"Exception budget, month to date ({month:%Y-%m}; rate = runs with an exception / runs started):",
        format_table(
            ["workflow", "runs", "exception rate", "budget", "consumed", "status", "action"],
            [(w, n, _pct(r / 100 if r is not None else None), _pct(b / 100), _pct(c / 100 if c is not None else None), st, a)
             for w, n, r, b, c, st, a in budget],
        ),
        "",
    ]


def _cost_section(con, week: date) -> list[str]:
    cost = con.execute(
        """select owner_team, max(currency), sum(completed_runs), sum(compute_cost), sum(labor_cost), sum(total_cost)
           from marts.agg_cost_to_serve_weekly
           where grain = 'owner_team_region' and week_start = ?
           group by owner_team order by owner_team""",
        [week],
    ).fetchall()
    currency = cost[0][1] if cost else ""
    return [
        f"Cost to serve, week of {week}, in {currency} (compute + human labor at the register's team rates):",
        format_table(
            ["owner team", "completed runs", "compute", "labor", "total", "per completed run"],
            [(t, n, _money(c), _money(lab), _money(tot), _money(tot / n if n else None))
             for t, _cur, n, c, lab, tot in cost],
        ),
        "",
    ]


def _landing_section(con) -> list[str]:
    """What landing did (marts.fct_landed_files: one row per load of the ledger)."""
    files, read, loaded, quarantined = con.execute(
        "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from marts.fct_landed_files"
    ).fetchone()
    return [f"Landed {files} file(s): {read} rows read = {loaded} loaded + {quarantined} quarantined."]


def _where_section(settings: Settings) -> list[str]:
    published = settings.published_duckdb_path
    lines = [f"DuckDB warehouse: {settings.duckdb_path} (one writer at a time: landing, builds)"]
    if published is not None:
        # BI tools and people read the published copy: it opens while a build or a landing writes
        lines += [
            f"Published marts (read-only copy for BI, replaced after each successful build): {published}",
            f"  query it:   .venv/bin/python -c \"import duckdb; print(duckdb.connect('{published}', "
            "read_only=True).sql('select * from marts.agg_workflow_weekly limit 10'))\"",
        ]
    lines.append("  Dagster UI: make dagster   (then open http://localhost:3000)")
    return lines


def status_report(settings: Settings) -> str:
    con = connect(settings.duckdb_path, read_only=True)
    try:
        lines = [f"warehouse: {settings.duckdb_path}"]
        if _relation_exists(con, "raw", "load_ledger"):
            files, read, loaded, quarantined, last = con.execute(
                """select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                          coalesce(sum(rows_quarantined), 0), max(loaded_at) from raw.load_ledger"""
            ).fetchone()
            lines.append(
                f"loaded: {files} file(s), {read} rows read = {loaded} loaded + {quarantined} quarantined"
                + (f"; last load {last:%Y-%m-%d %H:%M:%S} UTC" if last else "")
            )
            events = con.execute(
                "select count(*), min(event_ts), max(event_ts), count(distinct workflow_id) from raw.workflow_events"
            ).fetchone()
            if events[0]:
                lines.append(
                    f"events: {events[0]} across {events[3]} workflow(s), {events[1]:%Y-%m-%d} .. {events[2]:%Y-%m-%d %H:%M} UTC"
                )
            reasons = con.execute(
                "select reason_code, count(*) from raw.quarantine group by 1 order by 2 desc, 1"
            ).fetchall()
            if reasons:
                lines += ["", "quarantine by reason:", format_table(["reason_code", "rows"], reasons)]
            if _relation_exists(con, "raw", "refused_files"):
                refused = con.execute(
                    "select file_path, problem, strftime(refused_at, '%Y-%m-%d %H:%M') from raw.refused_files "
                    "order by refused_at desc limit 10"
                ).fetchall()
                if refused:
                    lines += ["", "files refused by the landing folder (skipped until their content changes):",
                              format_table(["file", "problem", "refused_at"], [(f, p[:80], t) for f, p, t in refused])]
            recent = con.execute(
                """select file_path, rows_read, rows_loaded, rows_quarantined, strftime(loaded_at, '%Y-%m-%d %H:%M')
                   from raw.load_ledger order by loaded_at desc limit 10"""
            ).fetchall()
            if recent:
                lines += ["", "recent loads:", format_table(["file", "read", "loaded", "quarantined", "loaded_at"], recent)]
        else:
            lines.append("loaded: nothing yet")
        if _relation_exists(con, "governance", "register_versions"):
            version, sha, at = con.execute(
                "select version, register_sha256, loaded_at from governance.register_versions order by loaded_at desc limit 1"
            ).fetchone()
            lines.append(f"\nregister: version {version}, sha256 {sha[:12]}, landed {at:%Y-%m-%d %H:%M:%S} UTC")
        built = con.execute(
            """select table_schema, table_name, table_type from information_schema.tables
               where table_schema in ('staging', 'intermediate', 'marts') order by 1, 2"""
        ).fetchall()
        if built:
            rows = []
            for schema, name, kind in built:
                count = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] if schema == "marts" else ""
                rows.append((f"{schema}.{name}", kind.lower().replace("base table", "table"), count))
            lines += ["", "built:", format_table(["relation", "kind", "rows"], rows)]
        else:
            lines.append("\nbuilt: nothing yet (run `command-center build`)")
    finally:
        con.close()
    results = last_run_results(settings)
    if results:
        statuses: dict[str, int] = {}
        for r in results.get("results", []):
            statuses[r.get("status", "?")] = statuses.get(r.get("status", "?"), 0) + 1
        generated = results.get("metadata", {}).get("generated_at", "?")
        lines.append(
            f"\nlast dbt invocation ({results.get('args', {}).get('which', '?')}) at {generated}: "
            + ", ".join(f"{k}={v}" for k, v in sorted(statuses.items()))
        )
    return "\n".join(lines)
