"""great-expectations on each landed batch against the batches before it: the one question no other layer asks.

Landing quarantines rows that break the contract, the row-level suite (raw_events_suite.json) re-checks
those rules on what landed, and the dbt tests check the whole table. None of them notices a batch that
is valid row by row but unlike its history: a feed that delivered a tenth of its usual volume, an
export that stopped filling ``cost_cents``, a source that suddenly sends only ``run_started``. This
module profiles one landed batch (``load_id``) in SQL and has great-expectations judge the profile
against bounds computed from the previous batches of the same log format:

- volume: rows within ``volume_low`` x .. ``volume_high`` x the median of the previous batches;
- null share: per optional contract field, at most its null share over the previous batches plus
  ``null_share_tolerance``;
- event-type mix: total variation distance (half the sum of absolute share differences) to the
  previous batches' mix at most ``max_event_mix_distance``.

The settings and the checks are the suite file ``orchestration/checks/batch_history_suite.json``;
the expectations are row-level ``expect_column_values_to_be_between`` on a one-row profile table,
run by the same runner as the raw-events suite (:func:`orchestration.lib.expectations.run_raw_events_suite`).
"Previous" means loaded earlier (``loaded_at``, then ``load_id``), at most ``window_batches`` of them;
with fewer than ``min_batches`` the batch is not compared (its checks pass, saying so). Every check
warns: a drift is for a person to look at, not a reason to stop the marts.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.checks import CHECKS_DIR
from orchestration.lib.contract import OPTIONAL_FIELDS, RAW_SCHEMA
from orchestration.lib.expectations import (
    CheckSpec,
    SuiteResult,
    load_suite_spec,
    raw_events_checks,
    run_raw_events_suite,
)

BATCH_HISTORY_SUITE_PATH = CHECKS_DIR / "batch_history_suite.json"
#: The temporary one-row table the suite validates (dropped afterwards).
PROFILE_TABLE = "batch_history_profile"
_EVENTS = f"{RAW_SCHEMA}.workflow_events"


@dataclass(frozen=True)
class BatchComparison:
    """One landed batch against its history: the profile, the bounds, and the suite's verdict."""

    load_id: str
    rows: int
    history_load_ids: tuple[str, ...]
    profile: dict[str, Any]
    parameters: dict[str, Any]
    result: SuiteResult | None  # None: not compared (too little history, or the batch is empty)

    @property
    def compared(self) -> bool:
        return self.result is not None


def batch_history_checks(path: Path | str = BATCH_HISTORY_SUITE_PATH) -> tuple[CheckSpec, ...]:
    """The history suite's checks (name, severity, description), from the JSON alone."""
    return raw_events_checks(path)


def _batch(con: duckdb.DuckDBPyConnection, load_id: str) -> tuple[str, datetime, int] | None:
    return con.execute(
        f"select any_value(log_format), min(loaded_at), count(*) from {_EVENTS} where load_id = ? having count(*) > 0",
        [load_id],
    ).fetchone()


def _previous_batches(con, load_id: str, log_format: str, loaded_at: datetime, window: int) -> list[tuple[str, int]]:
    """(load_id, rows) of the ``window`` batches of the same log format landed before this one, latest first."""
    return con.execute(
        f"""select load_id, count(*) as n from {_EVENTS}
            where log_format = ? and load_id <> ?
            group by load_id
            having min(loaded_at) < ? or (min(loaded_at) = ? and load_id < ?)
            order by min(loaded_at) desc, load_id desc
            limit ?""",
        [log_format, load_id, loaded_at, loaded_at, load_id, window],
    ).fetchall()


def _null_shares(con, load_ids: list[str]) -> dict[str, float]:
    columns = ", ".join(f'avg(("{f}" is null)::int) as "{f}"' for f in OPTIONAL_FIELDS)
    row = con.execute(f"select {columns} from {_EVENTS} where list_contains(?, load_id)", [load_ids]).fetchone()
    return {f: float(v) for f, v in zip(OPTIONAL_FIELDS, row, strict=True)}


def _event_mix_distance(con, load_id: str, history: list[str]) -> float:
    """Total variation distance between the batch's event-type shares and the history's (0 = same mix, 1 = disjoint)."""
    return float(con.execute(
        f"""with batch as (
                select event_type, count(*) / sum(count(*)) over () as p from {_EVENTS}
                where load_id = ? group by event_type
            ), history as (
                select event_type, count(*) / sum(count(*)) over () as p from {_EVENTS}
                where list_contains(?, load_id) group by event_type
            )
            select coalesce(0.5 * sum(abs(coalesce(b.p, 0) - coalesce(h.p, 0))), 0)
            from batch b full join history h using (event_type)""",
        [load_id, history],
    ).fetchone()[0])


def _parameters(settings: dict, history_rows: list[int], history_nulls: dict[str, float]) -> dict[str, Any]:
    median = statistics.median(history_rows)
    params: dict[str, Any] = {
        "min_rows": settings["volume_low"] * median,
        "max_rows": settings["volume_high"] * median,
        "max_event_mix_distance": settings["max_event_mix_distance"],
    }
    for field, share in history_nulls.items():
        params[f"max_null_share__{field}"] = min(1.0, share + settings["null_share_tolerance"])
    return params


def compare_batch_to_history(
    con: duckdb.DuckDBPyConnection, load_id: str, *, suite_path: Path | str = BATCH_HISTORY_SUITE_PATH
) -> BatchComparison:
    """Profile batch ``load_id`` of raw.workflow_events and validate it against the batches before it.

    ``con`` must be able to create a temporary table (the landing's own connection is). Raises
    :class:`orchestration.lib.expectations.SuiteError` when the suite file is invalid.
    """
    spec = load_suite_spec(suite_path)
    settings = spec["meta"]["history"]
    batch = _batch(con, load_id)
    if batch is None:
        return BatchComparison(load_id, 0, (), {}, {}, None)
    log_format, loaded_at, rows = batch
    previous = _previous_batches(con, load_id, log_format, loaded_at, int(settings["window_batches"]))
    history = [lid for lid, _ in previous]
    if len(previous) < int(settings["min_batches"]):
        return BatchComparison(load_id, rows, tuple(history), {"rows": rows}, {}, None)
    profile: dict[str, Any] = {"rows": rows}
    profile.update({f"null_share__{f}": v for f, v in _null_shares(con, [load_id]).items()})
    profile["event_mix_distance"] = _event_mix_distance(con, load_id, history)
    params = _parameters(settings, [n for _, n in previous], _null_shares(con, history))
    columns = ", ".join(f'?::double as "{name}"' for name in profile)
    # event_id: the suite runner's row identifier (its samples name it); here the batch's load_id
    con.execute(f"create or replace temp table {PROFILE_TABLE} as select ?::varchar as event_id, {columns}",
                [load_id, *profile.values()])
    try:
        result = run_raw_events_suite(con, table=PROFILE_TABLE, suite_path=suite_path, parameters=params,
                                      chunk_rows=1)
    finally:
        con.execute(f"drop table if exists {PROFILE_TABLE}")
    return BatchComparison(load_id, rows, tuple(history), profile, params, result)
