"""The demo summary's alert lines, read from the published marts (fct_alert_episodes): the alerts the
dispatcher would send as of the build's as_of, with their owners (docs/alerting.md). Nothing recomputed:
every figure is a count or a column of the mart."""
from __future__ import annotations

from orchestration.lib.reports import format_table

TOP = 10


def alert_counts(con) -> tuple:
    """(firing, page, ticket, info, silenced, resolved) over the episodes of fct_alert_episodes."""
    return con.execute(
        """select count(*) filter (where status = 'firing'),
                  count(*) filter (where status = 'firing' and not is_silenced and severity = 'page'),
                  count(*) filter (where status = 'firing' and not is_silenced and severity = 'ticket'),
                  count(*) filter (where status = 'firing' and not is_silenced and severity = 'info'),
                  count(*) filter (where status = 'firing' and is_silenced),
                  count(*) filter (where status = 'resolved')
           from marts.fct_alert_episodes"""
    ).fetchone()


def owner_rows(con) -> list[tuple]:
    """Per owner: the firing, unsilenced alerts it would receive now, and how many go to the daily digest."""
    return con.execute(
        """select owner, count(*),
                  count(*) filter (where severity = 'page'),
                  count(*) filter (where severity <> 'page' and error_budget_intact)
           from marts.fct_alert_episodes
           where status = 'firing' and not is_silenced
           group by owner order by count(*) desc, owner"""
    ).fetchall()


def firing_rows(con, limit: int = TOP) -> list[tuple]:
    return con.execute(
        """select e.severity, e.alert_source, e.alert_name, e.workflow_id, coalesce(e.subject, '-'), e.owner,
                  strftime(e.fired_at, '%Y-%m-%d %H:%M'),
                  case when e.severity <> 'page' and e.error_budget_intact then 'digest' else 'now' end
           from marts.fct_alert_episodes as e
           where e.status = 'firing' and not e.is_silenced
           order by case e.severity when 'page' then 1 when 'ticket' then 2 else 3 end, e.fired_at desc, e.episode_key
           limit ?""",
        [limit],
    ).fetchall()


def alerts_section(con) -> list[str]:
    firing, page, ticket, info, silenced, resolved = alert_counts(con)
    lines = [
        "",
        f"Alerts as of the build: {firing} firing ({page} page, {ticket} ticket, {info} info, {silenced} silenced), "
        f"{resolved} resolved episodes kept (fct_alert_episodes).",
    ]
    owners = owner_rows(con)
    if owners:
        lines += ["Alerts it would send now, per owner:",
                  format_table(["alert owner", "firing", "page", "to digest"], owners), ""]
    top = firing_rows(con)
    lines += [
        f"Top {TOP} firing alerts (pages first, newest first):",
        format_table(["alert severity", "source", "alert", "workflow", "subject", "owner", "fired (UTC)", "send"], top)
        if top else "  none firing",
        "",
    ]
    return lines
