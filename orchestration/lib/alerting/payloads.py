"""Slack-compatible message bodies (``text`` for notifications and clients without blocks, ``blocks``
for the channel). Pure functions of an episode row (a dict with fct_alert_episodes' columns).

Every message also carries ``dedupe_key`` and ``kind`` at the top level (Slack ignores unknown
keys; a generic receiver can dedupe on them) and repeats the dedupe key in a context block.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

SEVERITY_ICON = {"page": ":rotating_light:", "ticket": ":warning:", "info": ":information_source:"}
MAX_DIGEST_LINES = 40  # Slack allows 50 blocks per message; the rest is summarised in one line


def esc(value: Any) -> str:
    """Slack's control characters escaped, so a summary cannot mention <!channel> or forge a link."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _minutes(value: Any) -> str:
    return f"{value:g} min" if isinstance(value, int | float) else "-"


def _ts(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if isinstance(value, datetime) else (str(value) if value else "-")


def _escalation(episode: Mapping[str, Any]) -> str:
    raw = episode.get("escalation_path")
    try:
        steps = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return str(raw)
    return " → ".join(_step(s) for s in steps) or "-"


def _step(step: Any) -> str:
    """One escalation step: a string, or an object such as {"after_minutes": 60, "notify": "team_lead"}."""
    if not isinstance(step, dict):
        return str(step)
    who = step.get("notify") or step.get("role") or step.get("owner") or json.dumps(step)
    after = step.get("after_minutes")
    return f"{who} (+{after:g} min)" if isinstance(after, int | float) and after else str(who)


def _where(episode: Mapping[str, Any]) -> str:
    parts = [str(episode["workflow_id"])]
    if episode.get("region"):
        parts.append(str(episode["region"]))
    if episode.get("subject"):
        parts.append(str(episode["subject"]))
    return " / ".join(parts)


def _context(dedupe_key: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"dedupe key `{dedupe_key}`"}]}


def episode_message(episode: Mapping[str, Any], kind: str, dedupe_key: str) -> dict:
    """The 'fired' or 'resolved' message of one episode."""
    sev = str(episode["severity"])
    if kind == "resolved":
        head = f":white_check_mark: RESOLVED {episode['alert_name']} on {_where(episode)}"
        detail = f"fired {_ts(episode['fired_at'])}, resolved {_ts(episode.get('resolved_at'))}"
    else:
        head = f"{SEVERITY_ICON.get(sev, '')} {sev.upper()} {episode['alert_name']} on {_where(episode)}".strip()
        detail = f"fired {_ts(episode['fired_at'])}; respond within {_minutes(episode.get('response_target_minutes'))}"
    text = esc(f"{head}: {episode['summary']} (owner {episode['owner']})")
    fields = [
        f"*Owner*\n{esc(episode['owner'])} ({esc(episode['owner_role'])})",
        f"*Severity*\n{esc(sev)}",
        f"*When*\n{detail}",
        f"*Escalation*\n{esc(_escalation(episode))}",
    ]
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{esc(head)}*\n{esc(episode['summary'])}"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if episode.get("runbook_url"):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{episode['runbook_url']}|Runbook>"}})
    blocks.append(_context(dedupe_key))
    return {"text": text, "blocks": blocks, "dedupe_key": dedupe_key, "kind": kind,
            "episode_key": episode["episode_key"]}


def digest_line(episode: Mapping[str, Any], kind: str) -> str:
    state = "resolved" if kind == "resolved" else "fired"
    return esc(f"• {episode['severity']} {episode['alert_name']} on {_where(episode)}: {episode['summary']} "
               f"({state} {_ts(episode['resolved_at'] if kind == 'resolved' else episode['fired_at'])})")


def digest_message(owner: str, day: str, lines: Iterable[str], dedupe_key: str) -> dict:
    """One owner's daily digest: every queued alert that did not page, on a workflow within budget."""
    lines = list(lines)
    shown = lines[:MAX_DIGEST_LINES]
    more = len(lines) - len(shown)
    text = f"Daily alert digest for {esc(owner)} ({day}): {len(lines)} alert update(s), none paging, error budgets intact"
    body = "\n".join(shown) + (f"\n…and {more} more (command-center alerts list)" if more else "")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Alert digest {day}: {owner}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
        _context(dedupe_key),
    ]
    return {"text": text, "blocks": blocks, "dedupe_key": dedupe_key, "kind": "digest", "owner": owner}


def cleared_message(fired: dict, dedupe_key: str) -> dict:
    """The 'resolved' of an episode that left the mart without a resolved row, from its 'fired' message."""
    text = f":white_check_mark: CLEARED (no longer reported): {fired.get('text', '')}"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
        _context(dedupe_key),
    ]
    return {"text": text, "blocks": blocks, "dedupe_key": dedupe_key, "kind": "resolved",
            "episode_key": fired.get("episode_key")}
