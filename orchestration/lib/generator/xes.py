"""Sample XES event logs (IEEE 1849): the order-to-ship journey of ``minimal.py`` as traces of events.

Written element by element to a file (gzipped for a ``.gz`` name), in constant memory, so a log of
millions of events can be generated for the landing benchmark. What the log exercises:

* **lifecycle START/COMPLETE**: ``picked``, ``packed`` and ``shipped`` have a ``start`` event at the
  previous step's instant and a ``complete`` event at their own; other activities a ``complete`` only;
* **equal timestamps**: each ``start`` shares its instant with the previous ``complete`` (the order
  in the file decides which comes first);
* **mixed UTC offsets**: each case writes its times with one of ``OFFSETS`` (the same instants);
* trace attributes of every XES type (string, int, float, boolean, date, id) and event attributes
  (``org:resource``, ``lifecycle:transition``, ``reason_code`` when the step has one).

Deterministic: the same arguments give the same bytes (gzip with mtime 0 and no file name).
"""
from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from orchestration.lib.generator.common import lognormal, rng_seed
from orchestration.lib.generator.minimal import CHANNELS, case_starts, case_steps

#: Offsets the cases' timestamps are written with, in minutes east of UTC (0 is written 'Z').
OFFSETS = (0, 120, -300, 330)
#: Activities logged with a lifecycle start event as well as a complete event.
LIFECYCLE_ACTIVITIES = frozenset({"picked", "packed", "shipped"})

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849.2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="order_to_ship sample log"/>
"""


def xes_time(ms: int, offset_minutes: int) -> str:
    """An epoch-millisecond instant as xs:dateTime with the given UTC offset ('Z' for 0)."""
    tz = timezone(timedelta(minutes=offset_minutes))
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)
    text = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def _event(name: str, ts: str, actor: str, transition: str, reason: str | None) -> str:
    extra = f'<string key="reason_code" value={quoteattr(reason)}/>' if reason else ""
    return (
        f'    <event><string key="concept:name" value={quoteattr(name)}/>'
        f'<date key="time:timestamp" value="{ts}"/><string key="org:resource" value={quoteattr(actor)}/>'
        f'<string key="lifecycle:transition" value="{transition}"/>{extra}</event>\n'
    )


def write_xes_log(path: Path | str, *, days: int, cases_per_day: int, seed: int, end_date: date) -> tuple[int, int]:
    """Write an order-to-ship XES log over ``[end_date - days, end_date)`` to ``path`` (gzipped when its
    name ends in .gz). Returns (traces, events) written; no event is at or after end_date 00:00 UTC."""
    if days < 1:
        raise ValueError("days must be at least 1")
    path = Path(path)
    rng = np.random.default_rng(rng_seed(seed, 3))
    horizon, n, t0, case_ids = case_starts(rng, "xes-v1", seed=seed, days=days, cases_per_day=cases_per_day,
                                           end_date=end_date)
    channel = rng.integers(0, len(CHANNELS), n)
    offset = rng.integers(0, len(OFFSETS), n)
    amount = np.round(lognormal(rng, 85.0, 0.8, n), 2)
    priority = rng.integers(1, 4, n)
    u = rng.random((n, 8))
    gaps = rng.lognormal(0.0, 0.7, (n, 12))
    raw = path.open("wb")
    fh = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) if path.name.lower().endswith(".gz") else raw
    traces = events = 0
    try:
        fh.write(_HEADER.encode())
        for i in range(n):
            steps = [s for s in case_steps(int(t0[i]), float(amount[i]), u[i], gaps[i]) if s[1] < horizon]
            off = OFFSETS[offset[i]]
            parts = [
                f'  <trace><string key="concept:name" value="{case_ids[i]}"/>'
                f'<string key="channel" value="{CHANNELS[channel[i]]}"/><float key="amount" value="{amount[i]}"/>'
                f'<int key="priority" value="{priority[i]}"/><boolean key="express" value="{"true" if u[i, 5] < 0.2 else "false"}"/>'
                f'<date key="ordered_at" value="{xes_time(int(t0[i]), off)}"/><id key="order_uuid" value="{case_ids[i].lower()}"/>\n'
            ]
            previous = steps[0][1] if steps else 0
            for name, ts, actor, _amt, reason in steps:
                if name in LIFECYCLE_ACTIVITIES:
                    parts.append(_event(name, xes_time(previous, off), actor, "start", None))
                    events += 1
                parts.append(_event(name, xes_time(ts, off), actor, "complete", reason))
                events += 1
                previous = ts
            parts.append("  </trace>\n")
            fh.write("".join(parts).encode())
            traces += 1
        fh.write(b"</log>\n")
    finally:
        if fh is not raw:
            fh.close()
        raw.close()
    return traces, events
