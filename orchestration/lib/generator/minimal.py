"""The seed-001 "minimum viable event log": an order-to-ship journey as case_id / event_name / timestamp."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from orchestration.lib.generator.common import (
    MINIMAL_LOG_COLUMNS,
    MS_PER_DAY,
    MS_PER_MIN,
    epoch_ms,
    hex_ids,
    iso_ms,
    lognormal,
    namespace,
    rng_seed,
)

CHANNELS = ("web", "mobile_app", "marketplace", "phone")
LOCATIONS = ("DC-ATL", "DC-DAL", "DC-RTM", "DC-SYD")
#: The region each distribution centre runs in (the case's region, on every event of the case).
LOCATION_REGIONS = ("us-east-1", "us-east-1", "eu-west-1", "ap-southeast-2")
_PAYMENT_EVENTS = ("order_received", "payment_captured", "payment_failed")

Step = tuple[str, int, str, float | None, str | None]  # event, epoch ms, actor, amount, reason code


def case_steps(t0: int, amount: float, u: np.ndarray, gaps: np.ndarray) -> list[Step]:
    """One case's journey. Loops: payment retries, waiting for inventory, re-picks, label reprints."""
    steps: list[Step] = [("order_received", t0, "system", amount, None)]
    g = iter(gaps)

    def add(name: str, minutes: float, actor: str, amt: float | None = None, reason: str | None = None) -> None:
        steps.append((name, steps[-1][1] + int(minutes * next(g) * MS_PER_MIN), actor, amt, reason))

    if u[0] < 0.06:  # payment declined then captured (loop)
        add("payment_failed", 2, "payment_gateway", amount, "CARD_DECLINED")
        add("payment_captured", 25, "billing_agent", amount)
    else:
        add("payment_captured", 3, "payment_gateway", amount)
    if u[1] < 0.18:
        add("awaiting_inventory", 5, "system", reason="OUT_OF_STOCK")
        add("picked", 150, "warehouse_picker")
    else:
        add("picked", 45, "warehouse_picker")
    add("packed", 20, "warehouse_packer")
    if u[2] < 0.04:  # damaged at pack: re-pick and re-pack (rework)
        add("picked", 30, "warehouse_picker", reason="DAMAGED_ITEM")
        add("packed", 20, "warehouse_packer")
    add("label_printed", 10, "system")
    if u[3] < 0.05:  # label reprint
        add("label_printed", 15, "warehouse_packer", reason="PRINTER_JAM")
    add("shipped", 90, "carrier_api")
    return steps


#: A printer outage on the day before the log's last day: every case labelled that day fails once
#: (label_print_failed, then the label prints) - the volume spike of the register's
#: order_to_ship_label_print_failed_spike rule (docs/alerting.md). No random draw: other cases keep their bytes.
OUTAGE_DAYS_BEFORE_END = 2


def with_printer_outage(steps: list[Step]) -> list[Step]:
    """The case's steps with a label_print_failed halfway between the step before its first label and the label."""
    for k, (name, ts, _actor, _amount, _reason) in enumerate(steps):
        if name == "label_printed" and k > 0:
            failed: Step = ("label_print_failed", (steps[k - 1][1] + ts) // 2, "system", None, "PRINTER_OFFLINE")
            return [*steps[:k], failed, *steps[k:]]
    return steps


def case_starts(
    rng: np.random.Generator, kind: str, *, seed: int, days: int, cases_per_day: int, end_date: date
) -> tuple[int, int, np.ndarray, list[str]]:
    """(horizon ms, number of cases, their sorted start instants in epoch ms, their ids) of an
    order-to-ship log over ``[end_date - days, end_date)``; ``kind`` names the id namespace."""
    horizon = epoch_ms(end_date)
    start_ms = epoch_ms(end_date - timedelta(days=days))
    n = int(rng.poisson(cases_per_day * days)) if cases_per_day > 0 else 0
    t0 = start_ms + np.sort(rng.integers(0, days * MS_PER_DAY, size=n))
    case_ids = hex_ids("ORD-", namespace(kind, seed, days, cases_per_day, end_date.isoformat()),
                       np.arange(n)).to_pylist()
    return horizon, n, t0, case_ids


def _table(rows: dict[str, list], times: list[int]) -> pa.Table:
    times_arr = np.array(times, dtype=np.int64)
    order = np.lexsort((np.arange(len(times_arr)), times_arr))
    ts_text = np.char.add(iso_ms(times_arr), "Z") if len(times_arr) else np.array([], dtype=str)

    def col(values, typ=None):
        return pa.array([values[j] for j in order], typ or pa.string())

    table = pa.table({
        "case_id": col(rows["case_id"]),
        "event_name": col(rows["event_name"]),
        "timestamp": pa.array(ts_text[order] if len(times_arr) else [], pa.string()),
        "actor": col(rows["actor"]),
        "channel": col(rows["channel"]),
        "location": col(rows["location"]),
        "region": col(rows["region"]),
        "amount": col(rows["amount"], pa.float64()),
        "reason_code": col(rows["reason_code"]),
    })
    assert tuple(table.column_names) == MINIMAL_LOG_COLUMNS
    return table


def generate_minimal_log(*, days: int, cases_per_day: int, seed: int, end_date: date) -> pa.Table:
    """An order-to-ship minimum viable event log: case_id, event_name, timestamp, actor + optional
    channel, location, region, amount, reason_code. Loops: payment retries, waiting for inventory, re-picks and
    label reprints; a printer outage (label_print_failed) for the cases started two days before end_date. Timestamps are ISO 8601 UTC text ('...Z'); nothing at or after end_date 00:00 UTC."""
    if isinstance(end_date, datetime):
        end_date = end_date.date()
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = np.random.default_rng(rng_seed(seed, 2))
    horizon, n, t0, case_ids = case_starts(rng, "minimal-v1", seed=seed, days=days, cases_per_day=cases_per_day,
                                           end_date=end_date)
    channel = rng.integers(0, len(CHANNELS), n)
    location = rng.integers(0, len(LOCATIONS), n)
    amount = np.round(lognormal(rng, 85.0, 0.8, n), 2)
    u = rng.random((n, 8))
    gaps = rng.lognormal(0.0, 0.7, (n, 12))
    rows: dict[str, list] = {k: [] for k in MINIMAL_LOG_COLUMNS if k != "timestamp"}
    times: list[int] = []
    outage_from = horizon - OUTAGE_DAYS_BEFORE_END * MS_PER_DAY
    for i in range(n):
        steps = case_steps(int(t0[i]), float(amount[i]), u[i], gaps[i])
        if outage_from <= t0[i] < outage_from + MS_PER_DAY:
            steps = with_printer_outage(steps)
        for name, ts, actor, amt, reason in steps:
            if ts >= horizon:
                break
            times.append(ts)
            rows["case_id"].append(case_ids[i])
            rows["event_name"].append(name)
            rows["actor"].append(actor)
            rows["channel"].append(CHANNELS[channel[i]] if name == "order_received" or u[i, 4] < 0.5 else None)
            rows["location"].append(None if name in _PAYMENT_EVENTS else LOCATIONS[location[i]])
            rows["region"].append(LOCATION_REGIONS[location[i]])
            rows["amount"].append(amt)
            rows["reason_code"].append(reason)
    return _table(rows, times)
