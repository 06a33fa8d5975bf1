"""Alert dispatch: each alert episode of ``marts.fct_alert_episodes`` told to its owner exactly once.

Split by concern (docs/alerting.md, "Dispatch"):

    config.py     where messages go and the retry policy, from the environment (secrets only from env vars)
    payloads.py   the Slack-compatible messages (``text`` + ``blocks``): fired, resolved, daily digest
    transport.py  the HTTP webhook with bounded retries, exponential backoff with full jitter, a time budget
    outbox.py     the outbox: ``alerting.outbox`` (one row per message), ``alerting.outbox_attempts``
                  (one row per attempt) in the warehouse, and the append-only JSON Lines file
    digest.py     the daily digest: queued non-paging alerts grouped into one message per owner
    dispatch.py   the loop: read the episodes, record intents, write the file, send, mark
"""
from orchestration.lib.alerting.config import DispatchConfig, RetryPolicy
from orchestration.lib.alerting.dispatch import (
    DispatchResult,
    EpisodesNotBuiltError,
    dispatch,
    dispatch_warehouse,
    list_outbox,
    list_warehouse,
)

__all__ = ["DispatchConfig", "DispatchResult", "EpisodesNotBuiltError", "RetryPolicy", "dispatch",
           "dispatch_warehouse", "list_outbox", "list_warehouse"]
