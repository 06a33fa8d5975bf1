"""Step 2 of landing: project the parsed records onto the event contract (telemetry or minimal shape),
every field as text."""
from __future__ import annotations

import json
from collections.abc import Mapping

from orchestration.lib.contract import MINIMAL_FIELDS, MINIMAL_REQUIRED_FIELDS, TELEMETRY_FIELDS
from orchestration.lib.landing.common import sql_literal
from orchestration.lib.landing.timestamps import parse_sql

# --------------------------------------------------------------------------------------------------
# Step 2: project the records onto the contract (telemetry or minimal shape), as VARCHAR.
# --------------------------------------------------------------------------------------------------


def _json_pointer(key: str) -> str:
    """A top-level key as a JSON Pointer literal (RFC 6901), safe for any column name."""
    return sql_literal("/" + key.replace("~", "~0").replace("/", "~1"))


def _field_text(key: str) -> str:
    """A top-level value as text: strings unquoted, numbers/booleans as written, null/blank as NULL."""
    return f"nullif(trim(json_extract_string(j, {_json_pointer(key)})), '')"


_TELEMETRY_STRUCTURE = sql_literal(json.dumps({f: "VARCHAR" for f in TELEMETRY_FIELDS}))


def _telemetry_projection() -> tuple[str, str]:
    """(columns, from-clause): every contract field as trimmed text, extracted in one pass per record
    with json_transform (numbers and booleans as written; attributes as its JSON text, or the JSON
    text a CSV/Parquet column holds; validation checks that it is an object)."""
    cols = [f"nullif(trim(s.{f}), '') as {f}" for f in TELEMETRY_FIELDS]
    cols.append("null::varchar as source_event_name")
    source = f"(select _row, _problem, json_transform(j, {_TELEMETRY_STRUCTURE}) as s from _cc_json)"
    return ", ".join(cols), source


def _minimal_projection(
    keys: list[str],
    *,
    workflow: str,
    region: str | None,
    column_map: Mapping[str, str],
    timestamp_format: str | None = None,
    timezone: str | None = None,
    redact_actor: bool = False,
) -> tuple[str, str, list[str]]:
    """Project a minimum viable event log (case_id, event_name, timestamp, actor, ...) onto the contract.

    Each case is a run of ``workflow``; every event lands as a stage_completed event whose stage is the
    event_name (kept also in source_event_name); other columns go into attributes. ``actor`` is
    optional: absent, null or blank, the event lands with a null actor. Returns (columns, source,
    the file columns that must exist).

    The derived event_id (no event_id column) hashes the event's identity -- workflow, case_id,
    event_name, the instant (UTC) and actor -- and, from the second identical row of the file on,
    the row's occurrence number among identical rows: identical rows in one file are distinct
    events, while the same rows in another file get the same ids, hence are duplicates. When the
    register redacts ``actor``, the identity holds its salted hash (``$salt``), never the clear actor,
    so the unsalted event_id cannot be used to guess the actor back.
    """
    mapped = {f: column_map.get(f, f) for f in (*MINIMAL_FIELDS, "event_id", "region")}
    needed = [mapped[f] for f in MINIMAL_REQUIRED_FIELDS] + ([mapped["actor"]] if "actor" in column_map else [])
    used = set(needed)
    for optional in ("actor", "event_id", "region"):
        if optional in column_map or optional in keys:
            used.add(mapped[optional])
    extras = [k for k in keys if k not in used]
    case_id, event_name, ts = (_field_text(mapped[f]) for f in MINIMAL_REQUIRED_FIELDS)
    actor = _field_text(mapped["actor"]) if mapped["actor"] in used else "null::varchar"
    # Idempotency key for rows without one: the event's identity within its workflow.
    # The instant, not its spelling: '...T10:00:00Z' and '...T12:00:00+02:00' are the same event.
    actor_identity = f"'sha256:' || sha256($salt || {actor})" if redact_actor else actor
    parsed = parse_sql(ts, timestamp_format=timestamp_format, timezone=timezone)
    instant = f"coalesce(strftime({parsed}, '%Y-%m-%dT%H:%M:%S.%fZ'), {ts})"
    identity = f"concat_ws(chr(31), {sql_literal(workflow)}, {case_id}, {event_name}, {instant}, coalesce({actor_identity}, ''))"
    # the first occurrence hashes exactly as before occurrence numbers existed, so files landed
    # earlier still catch re-sent events
    occurrence = f"row_number() over (partition by {identity} order by _row)"
    event_id = (
        f"'mvl_' || left(sha256({identity} || case when {occurrence} > 1 "
        f"then chr(31) || {occurrence} else '' end), 32)"
    )
    if mapped["event_id"] in used:
        # an event_id column that some rows leave absent, null or blank: those rows get the derived id
        # (one blank cell never refuses the file)
        event_id = f"coalesce({_field_text(mapped['event_id'])}, {event_id})"
    region_sql = _field_text(mapped["region"]) if mapped["region"] in used else "null"
    region_sql = f"coalesce({region_sql}, {sql_literal(region) if region else 'null'})"
    extras_obj = (
        "json_object(" + ", ".join(f"{sql_literal(k)}, json_extract(j, {_json_pointer(k)})" for k in extras) + ")"
        if extras
        else "null"
    )
    cols = {
        "event_id": f"case when {case_id} is null or {event_name} is null or {ts} is null then null else {event_id} end",
        "workflow_id": sql_literal(workflow),
        "run_id": case_id,
        "event_type": f"case when {event_name} is null then null else 'stage_completed' end",
        "event_ts": ts,
        "region": region_sql,
        "stage": event_name,
        "actor": actor,
        "attributes": f"nullif(json_merge_patch('{{}}', {extras_obj})::varchar, '{{}}')" if extras else "null",
    }
    projection = [f"{cols.get(f, 'null::varchar')} as {f}" for f in TELEMETRY_FIELDS]
    projection.append(f"{event_name} as source_event_name")
    # the minimal log's own required fields, checked for presence under their contract names
    projection += [f"{_field_text(mapped[f])} as _min_{f}" for f in MINIMAL_REQUIRED_FIELDS]
    return ", ".join(projection), "_cc_json", needed
