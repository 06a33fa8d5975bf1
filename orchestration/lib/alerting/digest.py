"""The daily digest: the alerts that do not page, on workflows whose error budget is intact, told
once a day in one message per owner instead of one message per alert.

Queued items (``alerting.outbox`` rows with route ``digest`` and state ``queued``: a 'fired' or a
'resolved' of such an episode) are grouped by owner. Each group becomes one digest message whose
dedupe key names the owner, the UTC day and a hash of the items it carries, so a re-run after a
crash rebuilds the same key (nothing sent twice) and an item queued later the same day goes into a
new digest (nothing lost). The digest row and the items' move to ``digested`` are one transaction.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime

from orchestration.lib.alerting.outbox import OutboxStore, _rows
from orchestration.lib.alerting.payloads import digest_message


def digest_key(owner: str, day: str, item_keys: list[str]) -> str:
    items = hashlib.sha256("\n".join(sorted(item_keys)).encode()).hexdigest()[:12]
    return f"digest:{owner}:{day}:{items}"


def build_digests(store: OutboxStore, con, now: datetime) -> list[str]:
    """Turn every queued item into its owner's digest message (state pending); returns the digest keys."""
    queued = _rows(con, """
        select dedupe_key, owner, digest_line from alerting.outbox
        where route = 'digest' and state = 'queued' and message_kind <> 'digest'
        order by created_at, dedupe_key
    """)
    by_owner: dict[str, list[dict]] = defaultdict(list)
    for row in queued:
        by_owner[row["owner"]].append(row)
    day = f"{now:%Y-%m-%d}"
    keys = []
    for owner, items in sorted(by_owner.items()):
        item_keys = [i["dedupe_key"] for i in items]
        key = digest_key(owner, day, item_keys)
        payload = digest_message(owner, day, [i["digest_line"] for i in items], key)
        con.execute("begin transaction")
        try:
            store.insert_message(con, {
                "dedupe_key": key, "message_kind": "digest", "episode_key": None, "owner": owner,
                "route": "digest", "state": "pending", "reason": f"{len(items)} item(s)",
                "payload": json.dumps(payload, default=str),
            })
            con.execute(
                "update alerting.outbox set state = 'digested', digest_key = ?, updated_at = ? "
                "where dedupe_key in (select unnest(?::varchar[]))",
                [key, now, item_keys],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        keys.append(key)
    return keys
