"""Alert dispatch against a real HTTP server on 127.0.0.1 (http.server in a thread) and a real DuckDB
file holding a hand-made ``marts.fct_alert_episodes`` of the fixed interface.

What is checked: each message is accepted by the webhook once (no duplicates), none is lost, the
outbox rows and attempts say exactly what happened (transient 503 then a dropped connection then
200; a permanent 400; a spent retry budget; an invalid URL; a crash mid-send), the JSON Lines file
holds each message once, silenced episodes are suppressed and sent when the silence ends, non-paging
alerts on workflows within budget go into one digest per owner, a 'resolved' follows a 'fired'.
Backoff sleeps are recorded, not slept.
"""
from __future__ import annotations

import json
import random
import socket
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from orchestration.lib.alerting import DispatchConfig, RetryPolicy, dispatch, dispatch_warehouse, list_outbox
from orchestration.lib.alerting.dispatch import plan_messages
from orchestration.lib.alerting.outbox import INTERRUPTED, OutboxFile
from orchestration.lib.alerting.transport import WebhookTransport

AS_OF = datetime(2026, 11, 20, 12, 0)
COLUMNS = """
    episode_key varchar not null unique, alert_source varchar, alert_name varchar, workflow_id varchar,
    region varchar, subject varchar, severity varchar, status varchar, fired_at timestamp,
    resolved_at timestamp, owner varchar, owner_role varchar, response_target_minutes double,
    runbook_url varchar, escalation_path varchar, error_budget_intact boolean, is_silenced boolean,
    silenced_until timestamp, summary varchar, evidence varchar, as_of_ts timestamp
"""


def episode(key, *, severity="page", status="firing", owner="ops-oncall@example.com", budget_intact=True,
            silenced=False, fired=AS_OF - timedelta(hours=2), resolved=None):
    return (key, "exception_rule", f"rule_{key}", "invoice_posting", "eu", None, severity, status, fired, resolved,
            owner, "workflow_owner", 30.0, f"https://runbooks.example.com/{key}", '["team lead", "head of ops"]',
            budget_intact, silenced, AS_OF + timedelta(hours=4) if silenced else None, f"summary of {key}",
            '{"value": 3}', AS_OF)


def write_episodes(db, rows):
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace table marts.fct_alert_episodes ({COLUMNS})")
        con.executemany(f"insert into marts.fct_alert_episodes values ({', '.join('?' * 21)})", rows)
    finally:
        con.close()


BASE = [
    episode("e1"),                                                       # page, firing -> immediate
    episode("e2", severity="ticket", owner="finance-ops@example.com"),   # ticket, budget intact -> digest
    episode("e2b", severity="info", owner="finance-ops@example.com"),    # same owner -> same digest
    episode("e3", severity="ticket", budget_intact=False),               # budget spent -> immediate
    episode("e4", silenced=True),                                        # silenced -> suppressed
    episode("e5", status="resolved", resolved=AS_OF - timedelta(hours=1)),       # fired + resolved, in order
    episode("e6", status="resolved", fired=AS_OF - timedelta(days=5),            # old news -> suppressed
            resolved=AS_OF - timedelta(days=4)),
]


class Hook:
    """A webhook on 127.0.0.1 that answers from a script: an int is an HTTP status, 'drop' closes the
    connection without an answer; after the script, ``then``."""

    def __init__(self, script=(), then=200):
        self.script = list(script)
        self.then = then
        self.requests: list[tuple[dict, dict, object]] = []  # (headers, body, answer)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = hook.script.pop(0) if hook.script else hook.then
                hook.requests.append((dict(self.headers), body, answer))
                if answer == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if answer == 200 else b"invalid_payload")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self):
        return [b["dedupe_key"] for _, b, a in self.requests if a == 200]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wh.duckdb"
    write_episodes(path, BASE)
    return path


def connector(path):
    @contextmanager
    def connect():
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()
    return connect


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


DEFAULT_POLICY = RetryPolicy()


def run(db, tmp_path, url=None, *, policy=DEFAULT_POLICY, digest=False, session=None, sleeps=None):
    config = DispatchConfig(outbox_file=tmp_path / "alerts" / "outbox.jsonl", webhook_url=url, retry=policy)
    transport = None
    if url:
        transport = WebhookTransport(url, policy, session=session, sleep=sleeps if sleeps is not None else Sleeps(),
                                     rng=random.Random(7))
    return dispatch_warehouse(db, config=config, send_digest=digest, now=lambda: AS_OF, transport=transport)


def outbox(db):
    return {r["dedupe_key"]: r for r in list_outbox(connector(db), limit=1000)}


def attempts(db, key, channel="webhook"):
    con = duckdb.connect(str(db))
    try:
        return con.execute(
            "select attempt_no, http_status, outcome, error, wait_seconds from alerting.outbox_attempts "
            "where dedupe_key = ? and channel = ? order by attempt_no", [key, channel]).fetchall()
    finally:
        con.close()


def file_keys(tmp_path):
    return [r["dedupe_key"] for r in OutboxFile(tmp_path / "alerts" / "outbox.jsonl").records()]


def test_transient_failures_then_success_no_duplicates_nothing_lost(db, tmp_path):
    sleeps = Sleeps()
    with Hook(script=[503, "drop"]) as hook:
        result = run(db, tmp_path, hook.url, sleeps=sleeps)
        immediate = ["e1:fired", "e3:fired", "e5:fired", "e5:resolved"]
        assert sorted(hook.accepted()) == sorted(immediate)  # each once
        assert hook.accepted().index("e5:fired") < hook.accepted().index("e5:resolved")
        assert [b["dedupe_key"] for _, b, _ in hook.requests[:3]] == ["e1:fired"] * 3  # 503, drop, 200
        assert {h["Idempotency-Key"] for h, b, _ in hook.requests[:3]} == {"e1:fired"}
        first = hook.requests[0][1]
        assert first["text"].startswith(":rotating_light: PAGE rule_e1") and first["blocks"][0]["type"] == "section"

        rows = attempts(db, "e1:fired")
        assert [(n, s, o) for n, s, o, _, _ in rows] == [(1, 503, "retrying"), (2, None, "retrying"), (3, 200, "delivered")]
        assert "ConnectionError" in rows[1][3]
        assert len(sleeps) == 2 and 0 <= sleeps[0] <= 2 and 0 <= sleeps[1] <= 4  # full jitter under the caps
        assert [r[4] for r in rows[:2]] == sleeps

        box = outbox(db)
        assert {k for k, r in box.items() if r["state"] == "delivered"} == set(immediate)
        assert box["e1:fired"]["attempts"] == 3
        assert {k: box[k]["state"] for k in ("e2:fired", "e2b:fired")} == {"e2:fired": "queued", "e2b:fired": "queued"}
        assert box["e4:fired"]["state"] == "suppressed" and box["e4:fired"]["reason"].startswith("silenced until")
        assert box["e6:fired"]["state"] == box["e6:resolved"]["state"] == "suppressed"
        assert sorted(file_keys(tmp_path)) == sorted(immediate)
        assert result.new_messages == 9 and result.sent["delivered"] == 4

        # a second dispatch over the same episodes: nothing new, nothing sent
        again = run(db, tmp_path, hook.url)
        assert again.new_messages == 0 and sum(again.sent.values()) == 0 and len(hook.requests) == 6

        # e1 clears, e4's silence ends while it still fires, the daily digest goes out
        rows = [episode("e1", status="resolved", resolved=AS_OF - timedelta(minutes=5))] + BASE[1:4] + \
               [episode("e4", silenced=False)] + BASE[5:]
        write_episodes(db, rows)
        third = run(db, tmp_path, hook.url, digest=True)
        assert third.unsilenced == 1 and third.digests == 1
        new = hook.accepted()[4:]
        digest = [k for k in new if k.startswith("digest:finance-ops@example.com:2026-11-20:")]
        assert sorted(new) == sorted(["e1:resolved", "e4:fired", *digest]) and len(digest) == 1
        body = next(b for _, b, a in hook.requests if b["dedupe_key"] == digest[0])
        assert "rule_e2 " in body["blocks"][1]["text"]["text"] and "rule_e2b " in body["blocks"][1]["text"]["text"]
        box = outbox(db)
        assert box["e2:fired"]["state"] == box["e2b:fired"]["state"] == "digested"
        assert len(file_keys(tmp_path)) == len(set(file_keys(tmp_path))) == 7
        # the digest is sent once: a later digest run with nothing queued sends nothing
        assert run(db, tmp_path, hook.url, digest=True).digests == 0

        # an episode told as fired that leaves the mart without a resolved row (a stuck run that moved
        # on) is closed with a 'resolved' ("cleared"), once; a queued one goes into the next digest
        write_episodes(db, [r for r in rows if r[0] not in ("e3", "e2b")])
        fourth = run(db, tmp_path, hook.url, digest=True)
        assert fourth.new_messages == 2 and fourth.digests == 1
        cleared = next(b for _, b, a in hook.requests if b["dedupe_key"] == "e3:resolved")
        assert cleared["text"].startswith(":white_check_mark: CLEARED (no longer reported): :warning: TICKET rule_e3")
        assert run(db, tmp_path, hook.url, digest=True).new_messages == 0
        assert len(hook.accepted()) == len(set(hook.accepted())) == 9


def test_permanent_400_fails_fast_and_is_not_retried(db, tmp_path):
    sleeps = Sleeps()
    with Hook(then=400) as hook:
        result = run(db, tmp_path, hook.url, sleeps=sleeps)
        assert sleeps == [] and result.sent["failed_permanent"] == 4
        keys = [b["dedupe_key"] for _, b, _ in hook.requests]
        assert len(keys) == len(set(keys))  # one attempt each
        box = outbox(db)
        assert all(box[k]["state"] == "failed_permanent" and box[k]["attempts"] == 1 for k in keys)
        assert attempts(db, "e1:fired")[0][:3] == (1, 400, "failed_permanent")
        assert "HTTP 400" in box["e1:fired"]["last_error"]
        assert set(file_keys(tmp_path)) >= set(keys)  # not lost: in the file and the outbox
        assert sorted(keys) == ["e1:fired", "e3:fired", "e5:fired", "e5:resolved"]
        run(db, tmp_path, hook.url)
        assert len(hook.requests) == len(keys)  # a permanent failure is not retried by later runs


def test_retry_budget_used_up_leaves_the_message_due_then_delivered(db, tmp_path):
    write_episodes(db, [episode("e1")])
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    with Hook(then=503) as hook:
        run(db, tmp_path, hook.url, policy=policy)
        assert [n for n, *_ in attempts(db, "e1:fired")] == [1, 2, 3] and outbox(db)["e1:fired"]["state"] == "retrying"
        hook.then = 200
        run(db, tmp_path, hook.url, policy=policy)
        assert [(n, o) for n, _, o, _, _ in attempts(db, "e1:fired")][-1] == (4, "delivered")
        assert hook.accepted() == ["e1:fired"] and file_keys(tmp_path) == ["e1:fired"]


def test_total_time_budget_stops_retries(db, tmp_path):
    write_episodes(db, [episode("e1")])
    policy = RetryPolicy(max_attempts=5, base_delay=50, max_delay=60, total_budget=1)
    with Hook(then=503) as hook:
        run(db, tmp_path, hook.url, policy=policy)
        rows = attempts(db, "e1:fired")
        # the first jittered wait almost surely exceeds a 1 s budget (uniform(0, 50), seeded rng)
        assert len(rows) == 1 and rows[0][2] == "retrying" and "retry budget" in rows[0][3]


def test_invalid_url_fails_fast_without_a_request(db, tmp_path):
    write_episodes(db, [episode("e1")])
    run(db, tmp_path, "ftp://nowhere/hook")
    row = attempts(db, "e1:fired")
    assert row[0][2] == "failed_permanent" and "invalid webhook URL" in row[0][3]


def test_no_webhook_writes_the_file_only(db, tmp_path):
    config = DispatchConfig(outbox_file=tmp_path / "alerts" / "outbox.jsonl")
    result = dispatch(connector(db), config, now=lambda: AS_OF)  # a short connection per operation
    assert result.sent["delivered"] == 4 and sorted(file_keys(tmp_path)) == ["e1:fired", "e3:fired", "e5:fired", "e5:resolved"]
    assert run(db, tmp_path).sent["delivered"] == 0 and len(file_keys(tmp_path)) == 4


class Crash(BaseException):
    pass


def test_crash_after_post_resends_with_the_same_key(db, tmp_path):
    import requests

    write_episodes(db, [episode("e1")])

    class CrashingSession(requests.Session):
        def post(self, *a, **kw):
            super().post(*a, **kw)
            raise Crash  # the process dies after the webhook got the message, before the outcome is recorded

    with Hook() as hook:
        with pytest.raises(Crash):
            run(db, tmp_path, hook.url, session=CrashingSession())
        assert attempts(db, "e1:fired")[0][2] is None  # intent recorded, no outcome
        result = run(db, tmp_path, hook.url)
        assert result.recovered_attempts == 1
        rows = attempts(db, "e1:fired")
        assert [(n, o) for n, _, o, _, _ in rows] == [(1, "retrying"), (2, "delivered")] and rows[0][3] == INTERRUPTED
        # at least once to the webhook (the same key twice, a receiver can drop it), once in the file
        assert hook.accepted() == ["e1:fired", "e1:fired"]
        assert {h["Idempotency-Key"] for h, _, _ in hook.requests} == {"e1:fired"}
        assert file_keys(tmp_path) == ["e1:fired"]


def test_plan_routes_and_silences():
    rows = [dict(zip(["episode_key", "alert_source", "alert_name", "workflow_id", "region", "subject", "severity",
                      "status", "fired_at", "resolved_at", "owner", "owner_role", "response_target_minutes",
                      "runbook_url", "escalation_path", "error_budget_intact", "is_silenced", "silenced_until",
                      "summary", "evidence", "as_of_ts"], e, strict=True)) for e in BASE]
    plan = plan_messages(rows, {}, timedelta(hours=24))
    got = {r["dedupe_key"]: (r["route"], r["state"]) for _, r in plan}
    assert got == {
        "e1:fired": ("immediate", "pending"), "e2:fired": ("digest", "queued"), "e2b:fired": ("digest", "queued"),
        "e3:fired": ("immediate", "pending"), "e4:fired": ("immediate", "suppressed"),
        "e5:fired": ("immediate", "pending"), "e5:resolved": ("immediate", "pending"),
        "e6:fired": ("immediate", "suppressed"), "e6:resolved": ("immediate", "suppressed"),
    }


def test_cli_dispatch_and_list(db, tmp_path, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(db))
    monkeypatch.setenv("COMMAND_CENTER_ALERT_OUTBOX", str(tmp_path / "cli.jsonl"))
    monkeypatch.delenv("COMMAND_CENTER_ALERT_WEBHOOK_URL", raising=False)
    with Hook() as hook:
        monkeypatch.setenv("HOOK_SECRET", hook.url)
        monkeypatch.setenv("COMMAND_CENTER_ALERT_WEBHOOK_URL_ENV", "HOOK_SECRET")  # the URL from a named env var
        assert main(["alerts", "dispatch", "--digest"]) == 0
        assert len(hook.accepted()) == 5  # 4 immediate + 1 digest
    out = capsys.readouterr().out
    assert "9 new message(s)" in out and "1 digest(s)" in out and "webhook: configured" in out
    assert main(["alerts", "list", "--state", "suppressed"]) == 0
    listed = capsys.readouterr().out
    assert "e4:fired" in listed and "silenced until" in listed and "e1:fired" not in listed


def test_dagster_materializes_alert_dispatch_and_the_sensor_requests_a_run(db, tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.defs.alerting import (
        ALERT_EPISODES_KEY,
        alert_dispatch_sensor,
        build_alert_dispatch_asset,
        dispatch_alerts,
    )
    from orchestration.defs.resources import WarehouseResource

    monkeypatch.setenv("COMMAND_CENTER_ALERT_OUTBOX", str(tmp_path / "dagster.jsonl"))
    monkeypatch.delenv("COMMAND_CENTER_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("COMMAND_CENTER_ALERT_WEBHOOK_URL_ENV", raising=False)

    @dg.asset(key=ALERT_EPISODES_KEY)
    def fct_alert_episodes():  # stands in for the dbt model
        write_episodes(db, BASE)

    asset = build_alert_dispatch_asset([ALERT_EPISODES_KEY])
    assert asset.asset_deps[asset.key] == {ALERT_EPISODES_KEY}
    resources = {"warehouse": WarehouseResource(duckdb_path=str(db))}
    with dg.instance_for_test() as instance:
        # a build of the episodes alone: the sensor asks for one dispatch run, without the digest
        assert dg.materialize([fct_alert_episodes], instance=instance).success
        both = dg.define_asset_job("build_and_dispatch", selection=[ALERT_EPISODES_KEY, asset.key])
        defs = dg.Definitions(assets=[fct_alert_episodes, asset], jobs=[dispatch_alerts, both],
                              sensors=[alert_dispatch_sensor], resources=resources)
        ctx = dg.build_sensor_context(instance=instance, definitions=defs)
        evaluation = alert_dispatch_sensor.evaluate_tick(ctx)
        requests = evaluation.run_requests
        assert len(requests) == 1 and requests[0].run_key.startswith("episodes-built-by:")
        assert len(requests) == 1 and requests[0].job_name in (None, "dispatch_alerts")
        run_config = requests[0].run_config
        result = dg.materialize([asset], instance=instance, resources=resources, run_config=run_config)
        assert result.success
        meta = result.asset_materializations_for_node("alerting__alert_dispatch")[0].metadata
        assert meta["new_messages"].value == 9 and meta["delivered"].value == 4 and meta["digests"].value == 0
        # the daily job's run (config default): the digest goes out, nothing is sent twice
        again = dg.materialize([asset], instance=instance, resources=resources)
        meta = again.asset_materializations_for_node("alerting__alert_dispatch")[0].metadata
        assert meta["new_messages"].value == 0 and meta["digests"].value == 1 and meta["delivered"].value == 1
        assert len(list(OutboxFile(tmp_path / "dagster.jsonl").records())) == 5

        # a run that builds the episodes AND dispatches them (the daily job): the sensor starts nothing more
        assert defs.resolve_job_def("build_and_dispatch").execute_in_process(instance=instance).success
        skipped = alert_dispatch_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=defs, cursor=evaluation.cursor))
        assert not skipped.run_requests and "dispatches the alerts itself" in skipped.skip_message
