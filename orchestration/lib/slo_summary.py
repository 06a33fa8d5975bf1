"""The weekly SLO snapshot's partition and summary, as pure functions.

* `snapshot_week_vars`: a Dagster weekly partition key (the Monday, ``YYYY-MM-DD``) -> the dbt
  ``--vars`` that make ``fct_slo_weekly_snapshot`` recompute exactly that ISO week.
* `summary_query` / `summary_markdown`: the rows of one week -> the markdown table attached to the
  snapshot's materialization (workflow | SLI | objective | attainment | good / valid | breached |
  error budget left), with a headline of breaches.

The asset that uses them is in orchestration/defs/dbt.py. The metric definitions are the model's
(models/marts/slo/_slo__docs.md); nothing here recomputes a metric, it only formats the row.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

#: The columns of the snapshot the summary reads (the model's contract names them).
SUMMARY_COLUMNS = (
    "workflow_id",
    "sli",
    "objective_pct",
    "attainment_pct",
    "good_events",
    "valid_events",
    "pending_events",
    "is_breached",
    "error_budget_events",
    "error_budget_remaining_events",
    "error_budget_remaining_pct",
    "is_complete_week",
    "as_of_ts",
)

#: Display order of the SLIs (any other SLI sorts after these, by name).
SLI_ORDER = (
    "cycle_time_within_slo",
    "run_success",
    "exception_first_touch_within_slo",
    "exception_resolution_within_slo",
)


#: Breaches named in the headline (the table lists all of them).
_MAX_BREACHES_NAMED = 8


def parse_week(partition_key: str) -> date:
    """The Monday a partition key names; ValueError for anything else."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", partition_key):
            raise ValueError(partition_key)
        week = date.fromisoformat(partition_key)
    except (TypeError, ValueError):
        raise ValueError(f"a weekly partition key is an ISO date like '2026-11-16', got {partition_key!r}") from None
    if week.weekday() != 0:
        raise ValueError(
            f"a weekly partition key is the Monday that starts the ISO week, got {partition_key} (a {week:%A})"
        )
    return week


def snapshot_week_vars(partition_key: str) -> dict[str, str]:
    """dbt ``--vars`` for one partition: ``{"snapshot_week": "<Monday>"}`` (validated here, so a bad
    key fails before dbt starts; the model validates it again)."""
    return {"snapshot_week": parse_week(partition_key).isoformat()}


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def relation(schema: str, identifier: str) -> str:
    """``"schema"."identifier"``, quoted (the names come from the dbt manifest)."""
    return f"{quote_ident(schema)}.{quote_ident(identifier)}"


def summary_query(schema: str, identifier: str) -> str:
    """The rows of one week (parameter: week_start) from the snapshot relation ``schema.identifier``."""
    return (
        f"select {', '.join(SUMMARY_COLUMNS)} from {relation(schema, identifier)} "
        "where week_start = ? order by workflow_id, sli"
    )


def _sort_key(row: Mapping[str, Any]) -> tuple:
    sli = str(row.get("sli"))
    rank = SLI_ORDER.index(sli) if sli in SLI_ORDER else len(SLI_ORDER)
    return (str(row.get("workflow_id")), rank, sli)


def _num(value: Any, digits: int = 2) -> str:
    """12.0 -> '12', 66.666667 -> '66.67', -0.8 -> '-0.8'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _attainment(row: Mapping[str, Any]) -> str:
    if not row.get("valid_events"):
        return "n/a (no valid events)"
    return f"{_num(row.get('attainment_pct'))}%"


def _events(row: Mapping[str, Any]) -> str:
    text = f"{row.get('good_events', 0)} / {row.get('valid_events', 0)}"
    pending = row.get("pending_events") or 0
    return f"{text} (+{pending} pending)" if pending else text


def _budget_left(row: Mapping[str, Any]) -> str:
    budget = row.get("error_budget_events")
    remaining = row.get("error_budget_remaining_events")
    if not row.get("valid_events") or budget is None or remaining is None:
        return "–"
    text = f"{_num(remaining)} of {_num(budget)} events"
    pct = row.get("error_budget_remaining_pct")
    return f"{text} ({_num(pct, 1)}%)" if pct is not None else text


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def summary_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """rows, workflows, SLOs with valid events, breaches."""
    return {
        "rows": len(rows),
        "workflows": len({r.get("workflow_id") for r in rows}),
        "measured_slos": sum(1 for r in rows if r.get("valid_events")),
        "breaches": sum(1 for r in rows if r.get("is_breached")),
    }


def summary_markdown(week_start: date, rows: Iterable[Mapping[str, Any]]) -> str:
    """One markdown document for the week: a headline, then one table row per workflow x SLI.

    ``rows`` are snapshot rows (mappings with `SUMMARY_COLUMNS`); the order does not matter.
    """
    rows = sorted(rows, key=_sort_key)
    week_end = week_start + timedelta(days=6)
    title = f"### SLOs for the ISO week {week_start:%G-W%V} ({week_start.isoformat()} – {week_end.isoformat()}, UTC)"
    if not rows:
        return (
            f"{title}\n\n_No rows for this week: the week is outside the data the warehouse holds "
            "(no run or exception before its end, or all of them purged), or no workflow has SLO "
            "objectives in the register._"
        )
    counts = summary_counts(rows)
    breached = sorted({f"{r['workflow_id']} / {r['sli']}" for r in rows if r.get("is_breached")})
    lines = [title, ""]
    headline = (
        f"**{counts['breaches']} of {counts['measured_slos']} measured SLOs breached** across "
        f"{counts['workflows']} workflows"
    )
    if breached:
        shown = breached[:_MAX_BREACHES_NAMED]
        more = len(breached) - len(shown)
        headline += ": " + ", ".join(shown) + (f" and {more} more" if more else "")
    lines.append(headline + ".")
    as_of = {r.get("as_of_ts") for r in rows if r.get("as_of_ts") is not None}
    complete = all(r.get("is_complete_week") for r in rows)
    note = f"As of {_when(max(as_of))}" if as_of else "As of the latest event"
    note += (
        "; the week is complete."
        if complete
        else "; **the week is not complete as of that instant** (no event at or after its end yet): re-run "
        "this partition later to refresh it."
    )
    lines += [
        "",
        note + " Exception SLIs count exceptions by the week they were raised, so late "
        "acknowledgements and resolutions change them until the partition is re-run.",
        "",
        "| workflow | SLI | objective | attainment | good / valid | breached | error budget left |",
        "|---|---|---:|---:|---:|:---:|---:|",
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    r.get("workflow_id"),
                    r.get("sli"),
                    f"{_num(r.get('objective_pct'))}%",
                    _attainment(r),
                    _events(r),
                    "**yes**" if r.get("is_breached") else "no",
                    _budget_left(r),
                )
            )
            + " |"
        )
    return "\n".join(lines)
