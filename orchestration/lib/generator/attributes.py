"""Run attributes: one fake business object per run (JSON text), some carrying fields to redact."""
from __future__ import annotations

import json

import numpy as np

from orchestration.lib.generator.common import compact_json, lognormal

#: Fields the register may name for redaction; dropped from the objects unless it does.
REDACTABLE = ("customer_email", "bank_account")

HOSTILE_ATTRIBUTES = (
    {"note": "'; drop table x; --", "comment": 'He said "ship it", then left\nline two'},
    {"customer_name": "Zoë Ñúñez 🚚", "note": "tab\there, back\\slash, comma, \"quote\""},
    {"note": "Robert'); DROP TABLE students;--", "emoji": "✅❌", "empty": ""},
)
_CHANNELS = np.array(["web", "mobile_app", "marketplace", "edi"])
_COUNTRIES = np.array(["AU", "US", "NZ", "SG"])


def _order(d: dict, i: int, k: int) -> dict:
    obj = {"order_id": f"ORD-{d['num'][i]}-{k}", "channel": str(d["channel"][i]), "order_value": float(d["amount"][i])}
    if d["pick"][i] < 0.8:
        obj["customer_email"] = f"customer{d['cust'][i]}@example.com"
    return obj


def _invoice(d: dict, i: int, k: int) -> dict:
    obj = {"invoice_id": f"INV-{d['num'][i]}-{k}", "amount": float(d["amount"][i] * 10), "currency": "EUR"}
    if d["pick"][i] < 0.7:
        obj["bank_account"] = f"GB{d['acct'][i] % 90 + 10}TEST{d['acct'][i]:014d}"
    return obj


def _return(d: dict, i: int, k: int) -> dict:
    obj = {"rma_id": f"RMA-{d['num'][i]}-{k}", "order_id": f"ORD-{d['cust'][i]}", "refund_value": float(d["amount"][i])}
    if d["pick"][i] < 0.85:
        obj["customer_email"] = f"customer{d['cust'][i]}@example.com"
    return obj


def _statement(d: dict, i: int, k: int) -> dict:
    obj = {"statement_id": f"STM-{d['num'][i]}-{k}", "transactions": int(d["num"][i] % 900 + 50)}
    if d["pick"][i] < 0.9:
        obj["bank_account"] = f"DE{d['acct'][i] % 90 + 10}TEST{d['acct'][i]:014d}"
    return obj


def _supplier(d: dict, i: int, k: int) -> dict:
    obj = {"supplier_id": f"SUP-{d['num'][i]}-{k}", "country": str(_COUNTRIES[d["cust"][i] % 4])}
    if d["pick"][i] < 0.75:
        obj["bank_account"] = f"AU{d['acct'][i] % 90 + 10}TEST{d['acct'][i]:014d}"
    return obj


def _feed(d: dict, i: int, k: int) -> dict:
    return {"feed_id": f"FEED-{d['num'][i] % 40:03d}", "sku_count": int(d["num"][i] % 5000 + 100)}


def _generic(d: dict, i: int, k: int) -> dict:
    return {"batch_id": f"B-{d['num'][i]}-{k}"}


BUILDERS = {"order": _order, "invoice": _invoice, "return": _return, "statement": _statement,
            "supplier": _supplier, "feed": _feed, "generic": _generic}


def _draws(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Every random draw of one workflow's attributes, in a fixed order."""
    return {
        "num": rng.integers(100_000, 999_999, size=n),
        "amount": np.round(lognormal(rng, 180.0, 0.9, n), 2),
        "cust": rng.integers(1, 500_000, size=n),
        "acct": rng.integers(10**13, 10**14, size=n),
        "pick": rng.random(n),
        "channel": _CHANNELS[rng.integers(0, 4, size=n)],
        "present": rng.random(n) < 0.95,
    }


def attributes_json(kind: str, rng: np.random.Generator, n: int, first_id: int,
                    redact_fields: tuple[str, ...]) -> list[str | None]:
    """Per-run attribute objects as compact JSON text (fake values; some carry redaction fields)."""
    d = _draws(rng, n)
    build = BUILDERS.get(kind, _generic)
    out: list[str | None] = []
    for i in range(n):
        if not d["present"][i]:
            out.append(None)
            continue
        obj = build(d, i, first_id + i)
        obj = {key: v for key, v in obj.items() if key not in REDACTABLE or key in redact_fields}
        out.append(compact_json(obj))
    return out


def add_hostile_attributes(attr_texts: list[str | None], runs: list[int]) -> None:
    """Merge hostile-but-valid strings into the attributes of the given runs (in place)."""
    for i, run in enumerate(runs):
        obj = json.loads(attr_texts[run]) if attr_texts[run] else {}
        obj.update(HOSTILE_ATTRIBUTES[i % len(HOSTILE_ATTRIBUTES)])
        attr_texts[run] = compact_json(obj)
