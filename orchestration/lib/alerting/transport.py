"""The HTTP webhook: one message POSTed as JSON, with seed 002's retry policy.

Classification (what is worth retrying):

* retryable: a connection error (refused, reset, dropped mid-response), a timeout, HTTP 408, 429
  and every 5xx;
* permanent (fail fast, no retry): any other 4xx (a bad payload, a revoked webhook: 400, 403, 404,
  410), a URL that cannot be sent to (no scheme, unknown scheme, no host), any other 1xx/3xx answer.

Every attempt is reported to the caller twice, ``on_start(attempt_no)`` before the request and
``on_end(AttemptResult)`` after, so the outbox records the intent before the bytes leave and the
outcome after; the sleeps and the clock are injected so tests run the real loop without waiting.
Each request carries the message's dedupe key in the ``Idempotency-Key`` header, the same on every
retry and on a resend after a crash, so a receiver can drop duplicates.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from orchestration.lib.alerting.config import RetryPolicy

RETRYABLE_STATUS = frozenset({408, 429})

DELIVERED = "delivered"
RETRYING = "retrying"
FAILED_PERMANENT = "failed_permanent"
SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class AttemptResult:
    attempt_no: int
    outcome: str  # delivered | retrying | failed_permanent
    http_status: int | None = None
    error: str | None = None
    wait_seconds: float | None = None  # the backoff chosen before the next attempt, if any


def invalid_url_reason(url: str) -> str | None:
    """Why ``url`` cannot be a webhook, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"invalid webhook URL: scheme must be http or https, not {parts.scheme or 'none'!r}"
    if not parts.hostname:
        return "invalid webhook URL: no host"
    return None


def classify_status(status: int) -> str:
    if 200 <= status < 300:
        return DELIVERED
    if status in RETRYABLE_STATUS or status >= 500:
        return RETRYING
    return FAILED_PERMANENT


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP-date is not honoured; the jittered backoff applies


class WebhookTransport:
    def __init__(
        self,
        url: str,
        policy: RetryPolicy,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.url = url
        self.policy = policy
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()

    def _one(self, attempt_no: int, payload: dict, dedupe_key: str) -> tuple[AttemptResult, float | None]:
        try:
            response = self.session.post(
                self.url, json=payload, timeout=self.policy.timeout, allow_redirects=False,
                headers={"Idempotency-Key": dedupe_key, "User-Agent": "command-center-alerts"},
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as exc:
            return AttemptResult(attempt_no, FAILED_PERMANENT, error=f"invalid webhook URL: {exc}"), None
        except requests.exceptions.RequestException as exc:  # connection refused/reset/dropped, timeout
            return AttemptResult(attempt_no, RETRYING, error=f"{type(exc).__name__}: {exc}"[:500]), None
        outcome = classify_status(response.status_code)
        error = None if outcome == DELIVERED else f"HTTP {response.status_code}: {response.text[:200]}"
        return AttemptResult(attempt_no, outcome, http_status=response.status_code, error=error), _retry_after(response)

    def send(
        self,
        payload: dict,
        dedupe_key: str,
        *,
        first_attempt_no: int = 1,
        on_start: Callable[[int], None] = lambda n: None,
        on_end: Callable[[AttemptResult], None] = lambda r: None,
    ) -> AttemptResult:
        """POST ``payload`` until delivered, a permanent failure, the attempt cap or the time budget.

        Returns the last attempt's result; its outcome is ``retrying`` when the retries of this call
        are used up on a transient error (the message stays due: the next dispatch tries again).
        """
        reason = invalid_url_reason(self.url)
        started = self.clock()
        attempt_no = first_attempt_no
        for n in range(1, self.policy.max_attempts + 1):
            on_start(attempt_no)
            if reason:
                result, retry_after = AttemptResult(attempt_no, FAILED_PERMANENT, error=reason), None
            else:
                result, retry_after = self._one(attempt_no, payload, dedupe_key)
            if result.outcome != RETRYING or n == self.policy.max_attempts:
                on_end(result)
                return result
            wait = self.rng.uniform(0, self.policy.backoff_cap(n))
            if retry_after is not None:
                wait = max(wait, min(retry_after, self.policy.max_delay))
            if self.clock() - started + wait > self.policy.total_budget:
                result = AttemptResult(attempt_no, RETRYING, result.http_status,
                                       f"{result.error} (retry budget of {self.policy.total_budget:g}s used up)")
                on_end(result)
                return result
            on_end(AttemptResult(attempt_no, RETRYING, result.http_status, result.error, wait))
            self.sleep(wait)
            attempt_no += 1
        raise AssertionError("unreachable")  # pragma: no cover
