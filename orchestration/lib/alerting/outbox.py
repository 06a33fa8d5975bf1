"""The outbox: what was decided and what happened, in the warehouse and in a JSON Lines file.

``alerting.outbox``: one row per message, keyed by its dedupe key (``<episode_key>:fired``,
``<episode_key>:resolved``, ``digest:<owner>:<day>:<items hash>``); the primary key is what makes a
message exist once. ``state``: ``pending`` (intent recorded, not sent yet), ``queued`` (waiting for
its owner's daily digest), ``digested`` (carried by the digest named in ``digest_key``),
``delivered``, ``retrying`` (transient failures used up this run's retries; due again next run),
``failed_permanent`` (a non-retryable answer: not retried), ``suppressed`` (silenced, or already
over before the dispatcher saw it; ``reason`` says which; a silence that ends on a firing episode
turns it back into ``pending``).

``alerting.outbox_attempts``: one row per attempt on a channel (``webhook``: the HTTP POST, numbered
1, 2, ... across runs; ``file``: the JSON Lines append; ``none``: a suppression), inserted with
``started_at`` and no outcome BEFORE the attempt and completed after it (ended_at, http_status,
error, outcome ``delivered`` / ``retrying`` / ``failed_permanent`` / ``suppressed``). A row left
without outcome is an attempt a crash interrupted: the next dispatch closes it as ``retrying`` and
sends again under the same dedupe key.

The JSON Lines file (``alerts/outbox.jsonl`` beside the warehouse by default) is append-only: one
line per message when it is first due, flushed and fsync'ed before the outbox row says so. After a
crash between the append and the mark, the next dispatch finds the key in the file and does not
append it twice, so the file holds each message exactly once.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]

DDL = (
    "create schema if not exists alerting",
    """create table if not exists alerting.outbox (
        dedupe_key varchar primary key,
        message_kind varchar not null,
        episode_key varchar,
        owner varchar not null,
        route varchar not null,
        state varchar not null,
        reason varchar,
        digest_key varchar,
        digest_line varchar,
        payload varchar,
        created_at timestamp not null,
        updated_at timestamp not null,
        file_written_at timestamp,
        delivered_at timestamp,
        attempts integer not null default 0
    )""",
    """create table if not exists alerting.outbox_attempts (
        dedupe_key varchar not null,
        channel varchar not null,
        attempt_no integer not null,
        started_at timestamp not null,
        ended_at timestamp,
        http_status integer,
        error varchar,
        outcome varchar,
        wait_seconds double,
        primary key (dedupe_key, channel, attempt_no)
    )""",
)

MESSAGE_COLUMNS = (
    "dedupe_key", "message_kind", "episode_key", "owner", "route", "state", "reason", "digest_key",
    "digest_line", "payload", "created_at", "updated_at", "file_written_at", "delivered_at", "attempts",
)
INTERRUPTED = "interrupted: the dispatcher stopped before this attempt's outcome was recorded"


def ensure_outbox(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class OutboxFile:
    """The append-only JSON Lines file."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def contains(self, dedupe_key: str) -> bool:
        if not self.path.exists():
            return False
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    if json.loads(line).get("dedupe_key") == dedupe_key:
                        return True
                except ValueError:  # a torn last line from a crash mid-write: not a message
                    continue
        return False

    def append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        line = json.dumps(record, default=str, ensure_ascii=False, sort_keys=True) + "\n"
        with self.path.open("a", encoding="utf-8") as fh:
            if fh.tell() > 0 and not self._ends_with_newline():
                fh.write("\n")  # a torn line from an earlier crash stays on its own line
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        if new:
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def records(self) -> Iterator[dict]:
        if self.path.exists():
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)


class OutboxStore:
    """The two outbox tables, through short connections from ``connect`` (one writer at a time)."""

    def __init__(self, connect: Connect, now: Callable[[], datetime]):
        self.connect = connect
        self.now = now

    def existing(self, con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
        return {r["dedupe_key"]: r for r in _rows(con, "select * from alerting.outbox")}

    def insert_message(self, con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> bool:
        """Insert a new message; False (and nothing changed) if its dedupe key is already there."""
        now = self.now()
        values = {**row, "created_at": now, "updated_at": now, "attempts": 0}
        cols = [c for c in MESSAGE_COLUMNS if c in values]
        cur = con.execute(
            f"insert into alerting.outbox ({', '.join(cols)}) values ({', '.join('?' for _ in cols)}) "
            "on conflict do nothing returning dedupe_key",
            [values[c] for c in cols],
        )
        inserted = bool(cur.fetchall())
        if inserted and row["state"] == "suppressed":
            self.record_suppression(con, row["dedupe_key"], row.get("reason"))
        return inserted

    def set_state(self, con, dedupe_key: str, state: str, reason: str | None, **extra: Any) -> None:
        sets = ["state = ?", "reason = ?", "updated_at = ?"] + [f"{k} = ?" for k in extra]
        con.execute(
            f"update alerting.outbox set {', '.join(sets)} where dedupe_key = ?",
            [state, reason, self.now(), *extra.values(), dedupe_key],
        )

    def record_suppression(self, con, dedupe_key: str, reason: str | None) -> None:
        n = con.execute(
            "select count(*) from alerting.outbox_attempts where dedupe_key = ? and channel = 'none'", [dedupe_key]
        ).fetchone()[0]
        now = self.now()
        con.execute(
            "insert into alerting.outbox_attempts values (?, 'none', ?, ?, ?, null, ?, 'suppressed', null)",
            [dedupe_key, n + 1, now, now, reason],
        )

    def start_attempt(self, dedupe_key: str, channel: str, attempt_no: int) -> None:
        with self.connect() as con:
            con.execute(
                "insert into alerting.outbox_attempts (dedupe_key, channel, attempt_no, started_at) values (?, ?, ?, ?)",
                [dedupe_key, channel, attempt_no, self.now()],
            )

    def end_attempt(self, dedupe_key: str, channel: str, attempt_no: int, outcome: str, *,
                    http_status: int | None = None, error: str | None = None, wait: float | None = None) -> None:
        with self.connect() as con:
            con.execute(
                "update alerting.outbox_attempts set ended_at = ?, http_status = ?, error = ?, outcome = ?, "
                "wait_seconds = ? where dedupe_key = ? and channel = ? and attempt_no = ?",
                [self.now(), http_status, error, outcome, wait, dedupe_key, channel, attempt_no],
            )
            if channel == "webhook":
                con.execute("update alerting.outbox set attempts = ?, updated_at = ? where dedupe_key = ?",
                            [attempt_no, self.now(), dedupe_key])

    def interrupted(self, con) -> list[dict[str, Any]]:
        return _rows(con, "select * from alerting.outbox_attempts where outcome is null order by started_at")

    def close_interrupted(self, con, row: dict[str, Any], outcome: str, error: str | None) -> None:
        con.execute(
            "update alerting.outbox_attempts set ended_at = ?, outcome = ?, error = ? "
            "where dedupe_key = ? and channel = ? and attempt_no = ?",
            [self.now(), outcome, error, row["dedupe_key"], row["channel"], row["attempt_no"]],
        )

    def due(self, con) -> list[dict[str, Any]]:
        """Messages to send now, oldest first, a 'fired' before its episode's 'resolved'."""
        return _rows(con, """
            select * from alerting.outbox
            where state in ('pending', 'retrying') and (route = 'immediate' or message_kind = 'digest')
            order by created_at, case message_kind when 'fired' then 0 when 'resolved' then 1 else 2 end, dedupe_key
        """)


def list_messages(con: duckdb.DuckDBPyConnection, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest messages with their last attempt (for `command-center alerts list`)."""
    where = "where o.state = ?" if state else ""
    return _rows(con, f"""
        select o.dedupe_key, o.message_kind, o.owner, o.route, o.state, o.reason, o.attempts,
               o.created_at, o.delivered_at, a.http_status as last_http_status, a.error as last_error
        from alerting.outbox o
        left join (
            select * from alerting.outbox_attempts
            qualify row_number() over (
                partition by dedupe_key order by channel = 'webhook' desc, started_at desc, attempt_no desc
            ) = 1
        ) a using (dedupe_key)
        {where}
        order by o.created_at desc, o.dedupe_key
        limit ?
    """, ([state] if state else []) + [limit])
