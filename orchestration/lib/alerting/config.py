"""Dispatch settings from the environment, resolved once per dispatch.

The webhook URL is a secret (a Slack incoming-webhook URL is a bearer credential), so it is read only
from an environment variable, never from the register or Dagster config (both are shown in UIs and
stored with runs). ``COMMAND_CENTER_ALERT_WEBHOOK_URL_ENV`` may name another variable to read it from
(e.g. one your secret manager already exports).

The retry policy defaults are seed 002's: 5 attempts, base delay 2 s doubling to at most 60 s, with
full jitter, and a total budget of 10 minutes per message per dispatch run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import ConfigError

WEBHOOK_URL_ENV = "COMMAND_CENTER_ALERT_WEBHOOK_URL"
WEBHOOK_URL_ENV_NAME_ENV = "COMMAND_CENTER_ALERT_WEBHOOK_URL_ENV"
OUTBOX_FILE_ENV = "COMMAND_CENTER_ALERT_OUTBOX"
MAX_ATTEMPTS_ENV = "COMMAND_CENTER_ALERT_MAX_ATTEMPTS"
RETRY_BUDGET_ENV = "COMMAND_CENTER_ALERT_RETRY_BUDGET_SECONDS"
LOOKBACK_ENV = "COMMAND_CENTER_ALERT_LOOKBACK_HOURS"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter (seed 002).

    The wait before attempt ``n + 1`` is ``uniform(0, min(max_delay, base_delay * 2 ** (n - 1)))``
    ("full jitter"), raised to a server's ``Retry-After`` (capped at ``max_delay``), and never past
    what is left of ``total_budget`` seconds since the first attempt started: a wait that would end
    after the budget ends the retries instead.
    """

    max_attempts: int = 5
    base_delay: float = 2.0
    max_delay: float = 60.0
    total_budget: float = 600.0
    timeout: float = 10.0  # per request (connect and read)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"{MAX_ATTEMPTS_ENV} must be at least 1, not {self.max_attempts}")
        if self.total_budget <= 0 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ConfigError("retry policy: need total_budget > 0 and 0 <= base_delay <= max_delay")

    def backoff_cap(self, attempt: int) -> float:
        """The upper bound of the jittered wait after attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


@dataclass(frozen=True)
class DispatchConfig:
    outbox_file: Path
    webhook_url: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: an episode that had already cleared more than this long before the as-of instant when the
    #: dispatcher first sees it is recorded as suppressed, not sent (no storm of old news on a first run)
    lookback_hours: float = 24.0

    @property
    def has_webhook(self) -> bool:
        return bool(self.webhook_url)


def _number(var: str, default: float, kind=float) -> float:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{var} must be a number, not {raw!r}") from None


def config_from_env(warehouse_path: Path) -> DispatchConfig:
    """The dispatch configuration; the JSON Lines file defaults to ``alerts/outbox.jsonl`` beside the warehouse."""
    url_var = os.environ.get(WEBHOOK_URL_ENV_NAME_ENV, "").strip() or WEBHOOK_URL_ENV
    raw_file = os.environ.get(OUTBOX_FILE_ENV, "").strip()
    outbox = Path(raw_file).expanduser() if raw_file else Path(warehouse_path).parent / "alerts" / "outbox.jsonl"
    return DispatchConfig(
        outbox_file=outbox,
        webhook_url=os.environ.get(url_var, "").strip() or None,
        retry=RetryPolicy(
            max_attempts=int(_number(MAX_ATTEMPTS_ENV, 5, int)),
            total_budget=_number(RETRY_BUDGET_ENV, 600.0),
        ),
        lookback_hours=_number(LOOKBACK_ENV, 24.0),
    )
