"""The dispatch loop: read the alert episodes, decide, record the intent, then send and mark.

One dispatch (``dispatch``), run after the build that refreshed ``marts.fct_alert_episodes`` and
never beside another writer of the warehouse:

1. close attempts a crash left open (``retrying``, resent below under the same dedupe key);
2. plan (`plan_messages`, pure): for each episode a 'fired' message, and a 'resolved' one once it
   has cleared; routed ``immediate`` when it pages or its workflow's error budget is spent, else to
   the owner's daily ``digest``; ``suppressed`` when silenced (sent later if the silence ends while it
   still fires) or when it had cleared more than the lookback before the dispatcher first saw it;
   new messages are inserted (the dedupe key is the primary key: a second plan inserts nothing);
3. with ``send_digest``: queued digest items become one digest message per owner (digest.py);
4. send what is due, oldest first, a 'resolved' only after its 'fired' went out: the JSON Lines
   line (always), then the webhook when a URL is configured, with retries (transport.py).

Delivery: exactly once in the outbox table and the JSON Lines file; at least once to the webhook
(a crash after the POST and before its outcome is recorded resends it, with the same
``Idempotency-Key`` header and ``dedupe_key`` field, so a receiver can drop the duplicate).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.alerting.config import DispatchConfig, config_from_env
from orchestration.lib.alerting.digest import build_digests
from orchestration.lib.alerting.outbox import INTERRUPTED, Connect, OutboxFile, OutboxStore, _rows, ensure_outbox
from orchestration.lib.alerting.payloads import cleared_message, digest_line, episode_message
from orchestration.lib.alerting.transport import (
    DELIVERED,
    FAILED_PERMANENT,
    RETRYING,
    SUPPRESSED,
    AttemptResult,
    WebhookTransport,
)

EPISODES_RELATION = "marts.fct_alert_episodes"
SILENCED = "silenced"


class EpisodesNotBuiltError(RuntimeError):
    """The episodes mart is not in the warehouse yet (build first)."""


@dataclass
class DispatchResult:
    episodes: int = 0
    new_messages: int = 0
    unsilenced: int = 0
    digests: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {DELIVERED: 0, RETRYING: 0, FAILED_PERMANENT: 0})
    recovered_attempts: int = 0

    def summary(self) -> str:
        s = self.sent
        return (f"{self.episodes} episode(s), {self.new_messages} new message(s), {self.unsilenced} unsilenced, "
                f"{self.digests} digest(s); sent: {s[DELIVERED]} delivered, {s[RETRYING]} retrying, "
                f"{s[FAILED_PERMANENT]} failed permanently; {self.recovered_attempts} interrupted attempt(s) recovered")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def read_episodes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'fct_alert_episodes'"
    ).fetchone()[0]
    if not exists:
        raise EpisodesNotBuiltError(f"{EPISODES_RELATION} is not in the warehouse: run `command-center build` first")
    return _rows(con, f"select * from {EPISODES_RELATION} order by fired_at, episode_key")


# --- planning (pure) ------------------------------------------------------------------------------

def route_of(episode: Mapping[str, Any]) -> str:
    """Immediate when it pages or the workflow's error budget is spent; else the daily digest."""
    return "immediate" if episode["severity"] == "page" or not episode["error_budget_intact"] else "digest"


def _message(episode: Mapping[str, Any], kind: str, route: str, state: str, reason: str | None) -> dict[str, Any]:
    key = f"{episode['episode_key']}:{kind}"
    return {
        "dedupe_key": key, "message_kind": kind, "episode_key": episode["episode_key"], "owner": episode["owner"],
        "route": route, "state": state, "reason": reason, "digest_line": digest_line(episode, kind),
        "payload": json.dumps(episode_message(episode, kind, key), default=str),
    }


def _plan_fired(e: Mapping[str, Any], old: Mapping[str, Any] | None, lookback: timedelta) -> tuple[str, dict] | None:
    route = old["route"] if old else route_of(e)
    due = "pending" if route == "immediate" else "queued"
    if old is None:
        if e["status"] == "resolved" and e["resolved_at"] is not None and e["resolved_at"] < e["as_of_ts"] - lookback:
            return "insert", _message(e, "fired", route, SUPPRESSED, "cleared before the dispatcher first saw it (older than the lookback)")
        if e["is_silenced"]:
            return "insert", _message(e, "fired", route, SUPPRESSED, f"{SILENCED} until {e.get('silenced_until') or 'further notice'}")
        return "insert", _message(e, "fired", route, due, None)
    if old["state"] == SUPPRESSED and (old["reason"] or "").startswith(SILENCED) and not e["is_silenced"]:
        if e["status"] == "firing":
            return "unsilence", {"dedupe_key": old["dedupe_key"], "state": due, "reason": "silence ended while still firing"}
        return "unsilence", {"dedupe_key": old["dedupe_key"], "state": SUPPRESSED, "reason": "cleared while silenced: never sent"}
    return None


def _plan_vanished(episode_keys: set[str], existing: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, dict]]:
    """A 'resolved' for each episode told as fired that the mart no longer holds (e.g. a stuck run that
    moved on leaves the in-flight mart without a resolved row): the channel must not keep it open."""
    plan = []
    for old in existing.values():
        if old["message_kind"] != "fired" or old["episode_key"] in episode_keys or old["state"] == SUPPRESSED:
            continue
        if f"{old['episode_key']}:resolved" in existing:
            continue
        resolved_key = f"{old['episode_key']}:resolved"
        plan.append(("insert", {
            "dedupe_key": resolved_key, "message_kind": "resolved", "episode_key": old["episode_key"],
            "owner": old["owner"], "route": old["route"], "state": "pending" if old["route"] == "immediate" else "queued",
            "reason": "cleared: no longer in the episodes mart",
            "digest_line": f"• cleared (no longer reported): {(old['digest_line'] or '').removeprefix('• ')}",
            "payload": json.dumps(cleared_message(json.loads(old["payload"]), resolved_key)),
        }))
    return plan


def plan_messages(episodes: Iterable[Mapping[str, Any]], existing: Mapping[str, Mapping[str, Any]],
                  lookback: timedelta) -> list[tuple[str, dict]]:
    """What to insert ('insert', message row) and what to change ('unsilence', key/state/reason)."""
    episodes = list(episodes)
    plan: list[tuple[str, dict]] = _plan_vanished({e["episode_key"] for e in episodes}, existing)
    for e in episodes:
        fired_key = f"{e['episode_key']}:fired"
        step = _plan_fired(e, existing.get(fired_key), lookback)
        fired_state = (step[1]["state"] if step else existing[fired_key]["state"])
        if step:
            plan.append(step)
        if e["status"] != "resolved" or f"{e['episode_key']}:resolved" in existing:
            continue
        route = (existing.get(fired_key) or (step[1] if step else {})).get("route") or route_of(e)
        if fired_state == SUPPRESSED:
            plan.append(("insert", _message(e, "resolved", route, SUPPRESSED, "its 'fired' message was suppressed")))
        else:
            plan.append(("insert", _message(e, "resolved", route, "pending" if route == "immediate" else "queued", None)))
    return plan


# --- sending --------------------------------------------------------------------------------------

class _Dispatcher:
    def __init__(self, connect: Connect, config: DispatchConfig, now: Callable[[], datetime],
                 transport: WebhookTransport | None):
        self.store = OutboxStore(connect, now)
        self.file = OutboxFile(config.outbox_file)
        self.config = config
        self.now = now
        self.transport = transport

    def recover(self, con) -> int:
        rows = self.store.interrupted(con)
        for row in rows:
            if row["channel"] == "file" and self.file.contains(row["dedupe_key"]):
                self.store.close_interrupted(con, row, DELIVERED, None)
                self.store.set_state(con, row["dedupe_key"], "pending", "file line found after an interruption",
                                     file_written_at=self.now())
            else:
                self.store.close_interrupted(con, row, RETRYING, INTERRUPTED)
        return len(rows)

    def write_file(self, msg: dict[str, Any]) -> None:
        key = msg["dedupe_key"]
        attempt_no = self._last_attempt(key, "file") + 1
        self.store.start_attempt(key, "file", attempt_no)
        record = {"dedupe_key": key, "kind": msg["message_kind"], "episode_key": msg["episode_key"],
                  "owner": msg["owner"], "route": msg["route"], "written_at": self.now().isoformat(),
                  "message": json.loads(msg["payload"])}
        self.file.append(record)
        self.store.end_attempt(key, "file", attempt_no, DELIVERED)
        with self.store.connect() as con:
            self.store.set_state(con, key, msg["state"], msg["reason"], file_written_at=self.now())

    def send(self, msg: dict[str, Any]) -> str:
        key = msg["dedupe_key"]
        if msg["file_written_at"] is None and not self._file_attempted(key):
            self.write_file(msg)
        if self.transport is None:
            with self.store.connect() as con:
                self.store.set_state(con, key, DELIVERED, "written to the outbox file (no webhook URL configured)",
                                     delivered_at=self.now())
            return DELIVERED

        def on_end(r: AttemptResult) -> None:
            self.store.end_attempt(key, "webhook", r.attempt_no, r.outcome, http_status=r.http_status,
                                   error=r.error, wait=r.wait_seconds)

        result = self.transport.send(
            json.loads(msg["payload"]), key, first_attempt_no=self._last_attempt(key, "webhook") + 1,
            on_start=lambda n: self.store.start_attempt(key, "webhook", n), on_end=on_end,
        )
        with self.store.connect() as con:
            extra = {"delivered_at": self.now()} if result.outcome == DELIVERED else {}
            self.store.set_state(con, key, result.outcome, result.error, **extra)
        return result.outcome

    def _file_attempted(self, key: str) -> bool:
        with self.store.connect() as con:
            return bool(con.execute("select count(*) from alerting.outbox_attempts where dedupe_key = ? "
                                    "and channel = 'file' and outcome = 'delivered'", [key]).fetchone()[0])

    def _last_attempt(self, key: str, channel: str) -> int:
        with self.store.connect() as con:
            return con.execute("select coalesce(max(attempt_no), 0) from alerting.outbox_attempts "
                               "where dedupe_key = ? and channel = ?", [key, channel]).fetchone()[0]


def _held_back(msg: Mapping[str, Any], states: Mapping[str, str]) -> bool:
    """A 'resolved' waits until its 'fired' has been sent (or has failed for good)."""
    if msg["message_kind"] != "resolved":
        return False
    return states.get(f"{msg['episode_key']}:fired") in ("pending", "retrying")


def dispatch(connect: Connect, config: DispatchConfig, *, send_digest: bool = False,
             now: Callable[[], datetime] = utc_now, transport: WebhookTransport | None = None) -> DispatchResult:
    """One dispatch run (module docstring). ``transport`` defaults to the configured webhook, if any."""
    if transport is None and config.has_webhook:
        transport = WebhookTransport(config.webhook_url or "", config.retry)
    d = _Dispatcher(connect, config, now, transport)
    result = DispatchResult()
    with connect() as con:
        ensure_outbox(con)
        result.recovered_attempts = d.recover(con)
        episodes = read_episodes(con)
        result.episodes = len(episodes)
        plan = plan_messages(episodes, d.store.existing(con), timedelta(hours=config.lookback_hours))
        con.execute("begin transaction")  # the whole plan is one intent: recorded entirely or not at all
        try:
            for action, row in plan:
                if action == "insert":
                    result.new_messages += d.store.insert_message(con, row)
                else:
                    d.store.set_state(con, row["dedupe_key"], row["state"], row["reason"])
                    result.unsilenced += row["state"] != SUPPRESSED
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        if send_digest:
            result.digests = len(build_digests(d.store, con, now()))
        due = d.store.due(con)
        states = {k: v["state"] for k, v in d.store.existing(con).items()}
    for msg in due:
        if _held_back(msg, states):
            continue
        outcome = d.send(msg)
        states[msg["dedupe_key"]] = outcome
        result.sent[outcome] += 1
    return result


def list_outbox(connect: Connect, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    from orchestration.lib.alerting.outbox import list_messages

    with connect() as con:
        ensure_outbox(con)
        return list_messages(con, state, limit)


@contextmanager
def _reusing(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    yield con


def dispatch_warehouse(warehouse_path: Path, *, send_digest: bool = False, config: DispatchConfig | None = None,
                       now: Callable[[], datetime] = utc_now, transport: WebhookTransport | None = None) -> DispatchResult:
    """Dispatch against the warehouse file, through ONE connection held for the run (the CLI and
    Dagster entry point; the caller makes sure no other writer, e.g. dbt, runs meanwhile)."""
    from orchestration.lib.warehouse import open_warehouse

    config = config or config_from_env(warehouse_path)
    with open_warehouse(warehouse_path) as con:
        return dispatch(lambda: _reusing(con), config, send_digest=send_digest, now=now, transport=transport)


def list_warehouse(warehouse_path: Path, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    from orchestration.lib.warehouse import open_warehouse

    with open_warehouse(warehouse_path) as con:
        return list_outbox(lambda: _reusing(con), state, limit)
