"""Alert dispatch's pure parts: error classification, backoff caps, URL checks, digest keys, settings."""
from __future__ import annotations

import json

import pytest

from orchestration.lib.alerting.config import RetryPolicy, config_from_env
from orchestration.lib.alerting.digest import digest_key
from orchestration.lib.alerting.payloads import _escalation, digest_message
from orchestration.lib.alerting.transport import classify_status, invalid_url_reason
from orchestration.settings import ConfigError


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "delivered"), (204, "delivered"), (408, "retrying"), (429, "retrying"), (500, "retrying"),
    (503, "retrying"), (400, "failed_permanent"), (403, "failed_permanent"), (404, "failed_permanent"),
    (410, "failed_permanent"), (301, "failed_permanent"),
])
def test_classify_status(status, outcome):
    assert classify_status(status) == outcome


def test_backoff_caps_double_up_to_the_maximum():  # seed 002: base 2 s, max 60 s
    policy = RetryPolicy()
    assert [policy.backoff_cap(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(("url", "bad"), [
    ("https://hooks.slack.com/services/T/B/x", False), ("http://127.0.0.1:8080/hook", False),
    ("ftp://x/y", True), ("hooks.slack.com/services", True), ("https:///path", True),
])
def test_invalid_url(url, bad):
    assert (invalid_url_reason(url) is not None) is bad


def test_digest_key_is_stable_and_names_owner_and_day():
    a = digest_key("ops@x", "2026-11-20", ["k2", "k1"])
    assert a == digest_key("ops@x", "2026-11-20", ["k1", "k2"]) and a.startswith("digest:ops@x:2026-11-20:")
    assert a != digest_key("ops@x", "2026-11-20", ["k1", "k2", "k3"])


def test_digest_message_caps_lines():
    msg = digest_message("ops@x", "2026-11-20", [f"line {i}" for i in range(45)], "digest:k")
    assert "45 alert update(s)" in msg["text"] and "…and 5 more" in msg["blocks"][1]["text"]["text"]


def test_escalation_path_text():
    steps = '[{"after_minutes": 0, "notify": "owner"}, {"after_minutes": 60, "notify": "lead"}]'
    assert _escalation({"escalation_path": steps}) == "owner → lead (+60 min)"
    assert _escalation({"escalation_path": '["team lead", "head of ops"]'}) == "team lead → head of ops"
    assert _escalation({"escalation_path": None}) == "-"


def test_config_from_env(tmp_path, monkeypatch):
    for var in ("COMMAND_CENTER_ALERT_WEBHOOK_URL", "COMMAND_CENTER_ALERT_OUTBOX", "COMMAND_CENTER_ALERT_MAX_ATTEMPTS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COMMAND_CENTER_ALERT_WEBHOOK_URL_ENV", "MY_SECRET_HOOK")
    monkeypatch.setenv("MY_SECRET_HOOK", "https://example.invalid/hook")
    config = config_from_env(tmp_path / "w" / "cc.duckdb")
    assert config.webhook_url == "https://example.invalid/hook"
    assert config.outbox_file == tmp_path / "w" / "alerts" / "outbox.jsonl"
    monkeypatch.setenv("COMMAND_CENTER_ALERT_MAX_ATTEMPTS", "many")
    with pytest.raises(ConfigError, match="COMMAND_CENTER_ALERT_MAX_ATTEMPTS"):
        config_from_env(tmp_path / "cc.duckdb")


def test_message_text_is_escaped_for_slack():
    from datetime import datetime

    from orchestration.lib.alerting.payloads import episode_message

    e = {"episode_key": "k", "severity": "page", "alert_name": "a", "workflow_id": "w", "summary": "<!channel> & co",
         "owner": "o", "owner_role": "r", "fired_at": datetime(2026, 11, 20, 8), "response_target_minutes": 15.0,
         "escalation_path": None, "runbook_url": "https://r.example/x"}
    msg = episode_message(e, "fired", "k:fired")
    assert "<!channel>" not in json.dumps(msg) and "&lt;!channel&gt; &amp; co" in msg["text"]
    assert "respond within 15 min" in msg["blocks"][1]["fields"][2]["text"]
