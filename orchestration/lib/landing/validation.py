"""Step 3 of landing: validate (first failing rule wins), redact, split into loaded and quarantined."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from orchestration.lib.contract import (
    EVENT_TYPES,
    EXCEPTION_EVENT_TYPES,
    MAX_FUTURE_SKEW_HOURS,
    MAX_IDENTIFIER_LENGTH,
    MINIMAL_REQUIRED_FIELDS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
)
from orchestration.lib.landing.common import sql_literal
from orchestration.lib.landing.dedup import mark_duplicates
from orchestration.lib.landing.redaction import (
    malformed_prefix_allowed,
    malformed_record_sql,
    redacted_column_sql,
    redacted_json_sql,
    used_params,
)
from orchestration.lib.landing.timestamps import parse_passed_sql, parse_sql, unparseable_detail_sql
from orchestration.lib.residency import residency_rule_sql, withheld_record_sql

_NUMERIC_FIELDS = {k: v for k, v in OPTIONAL_FIELDS.items() if v in ("BIGINT", "DOUBLE", "INTEGER")}
_INTEGER_FIELDS = {k for k, v in _NUMERIC_FIELDS.items() if v in ("BIGINT", "INTEGER")}
_IDENTIFIER_FIELDS = ("event_id", "workflow_id", "run_id", "region", "exception_id", "exception_class")
#: A control character anywhere in a value (U+0000-U+001F, U+007F), as a GLOB pattern: the same test
#: as ``regexp_matches(v, '[\x00-\x1f\x7f]')`` (these are single bytes in UTF-8, never inside a
#: multi-byte character) at under half its cost. Built with chr() (folded to one constant).
CONTROL_CHAR_GLOB = "('*[' || chr(0) || '-' || chr(31) || chr(127) || ']*')"


#: The largest magnitude each integer field's warehouse type holds (contract.OPTIONAL_FIELDS).
_INTEGER_LIMITS = {"BIGINT": 2**63, "INTEGER": 2**31}


def _expired_sql(expired_before: Mapping[str, tuple[datetime, str]] | None) -> tuple[str, str]:
    """(bound, description) SQL expressions for the ``expired`` rule: per region, the earliest event_ts
    kept, as computed by landing from the register (``""`` key: any other region). Literals only:
    the bounds are timestamps computed in Python and the region names are quoted."""
    if not expired_before:
        return "null::timestamp", "null"
    default = expired_before.get("")
    bound = "case region " + " ".join(
        f"when {sql_literal(r)} then timestamp {sql_literal(b.strftime('%Y-%m-%d %H:%M:%S'))}"
        for r, (b, _) in expired_before.items() if r
    ) + f" else {('timestamp ' + sql_literal(default[0].strftime('%Y-%m-%d %H:%M:%S'))) if default else 'null'} end"
    why = "case region " + " ".join(
        f"when {sql_literal(r)} then {sql_literal(d)}" for r, (_, d) in expired_before.items() if r
    ) + f" else {sql_literal(default[1]) if default else 'null'} end"
    if bound.startswith("case region  else"):
        bound, why = bound.replace("case region  else", "case when true then"), why.replace("case region  else", "case when true then")
    return bound, why


def _checks_sql(
    log_format: str, expired_before: Mapping[str, tuple[datetime, str]] | None = None, timestamp_format: str | None = None,
    residency_blocked: list[str] | None = None,
) -> str:
    minimal = log_format != "telemetry"  # 'minimal' and 'xes' (an XES log lands as a minimal log)
    required = MINIMAL_REQUIRED_FIELDS if minimal else REQUIRED_FIELDS
    col = (lambda f: f"_min_{f}") if minimal else (lambda f: f)
    missing = " ".join(f"when {col(f)} is null then {sql_literal(f)}" for f in required)
    if minimal:
        missing += " when region is null then 'region (pass --region or map a region column)'"
    bad_ident = " ".join(
        f"when length({f}) > {MAX_IDENTIFIER_LENGTH} or {f} glob {CONTROL_CHAR_GLOB} then {sql_literal(f)}"
        for f in _IDENTIFIER_FIELDS
    )
    bad_type = " ".join(
        f"when {f} is not null and (try_cast({f} as double) is null or not isfinite(try_cast({f} as double))"
        + (f" or try_cast({f} as double) <> floor(try_cast({f} as double))" if f in _INTEGER_FIELDS else "")
        + f") then {sql_literal(f + ' is not a' + ('n integer' if f in _INTEGER_FIELDS else ' number'))}"
        for f in _NUMERIC_FIELDS
    )
    bad_type += (
        " when attributes is not null and (not json_valid(attributes) or json_type(attributes) <> 'OBJECT')"
        " then 'attributes is not a JSON object'"
    )
    out_of_range = " ".join(
        f"when round(try_cast({f} as double)) >= {_INTEGER_LIMITS[t]} or round(try_cast({f} as double)) < -{_INTEGER_LIMITS[t]} "
        f"then {sql_literal(f)} || ' ' || left({f}::varchar, 32) || ' is outside the {t.lower()} range'"
        for f, t in _NUMERIC_FIELDS.items() if t in _INTEGER_LIMITS
    )
    expired_bound, expired_why = _expired_sql(expired_before)
    residency = residency_rule_sql(residency_blocked or [])  # orchestration/lib/residency.py
    negative = " ".join(
        f"when try_cast({f} as double) < 0 then {sql_literal(f)}" for f in ("duration_ms", "cost_cents", "attempt")
    )
    event_types = ", ".join(sql_literal(t) for t in EVENT_TYPES)
    exc_types = ", ".join(sql_literal(t) for t in EXCEPTION_EVENT_TYPES)
    return f"""
        case when _problem is not null then 'malformed_record'
             when (case {missing} end) is not null then 'missing_required_field'
             when (case {bad_ident} end) is not null then 'invalid_identifier'
             when {residency} then 'residency_violation'
             when _ts is null then 'unparseable_timestamp'
             when _event_type not in ({event_types}) then 'unknown_event_type'
             when (case {bad_type} end) is not null then 'invalid_type'
             when (case {out_of_range} end) is not null then 'out_of_range'
             when (case {negative} end) is not null then 'negative_value'
             when try_cast(confidence as double) not between 0 and 1 then 'confidence_out_of_range'
             when _event_type in ({exc_types}) and exception_id is null then 'missing_exception_id'
             when _ts > $future_limit then 'future_timestamp'
             when _ts < {expired_bound} then 'expired'
        end as _reason,
        case when _problem is not null then _problem
             when (case {missing} end) is not null then (case {missing} end)
             when (case {bad_ident} end) is not null then (case {bad_ident} end)
             when {residency} then 'region ' || region || ' has eu_only_processing and the warehouse is not in the EU'
             when _ts is null then {unparseable_detail_sql("event_ts", timestamp_format=timestamp_format)}
             when _event_type not in ({event_types}) then 'event_type ' || '''' || left(event_type, 64) || ''''
             when (case {bad_type} end) is not null then (case {bad_type} end)
             when (case {out_of_range} end) is not null then (case {out_of_range} end)
             when (case {negative} end) is not null then (case {negative} end) || ' is negative'
             when try_cast(confidence as double) not between 0 and 1 then 'confidence ' || confidence::varchar
             when _event_type in ({exc_types}) and exception_id is null then _event_type || ' without exception_id'
             when _ts > $future_limit then 'event_ts ' || strftime(_ts, '%Y-%m-%dT%H:%M:%SZ') || ' is more than {MAX_FUTURE_SKEW_HOURS} h after landing'
             when _ts < {expired_bound} then 'event_ts ' || strftime(_ts, '%Y-%m-%dT%H:%M:%SZ') || ' is before '
                  || strftime({expired_bound}, '%Y-%m-%dT%H:%M:%SZ') || ', ' || {expired_why}
        end as _reason_detail"""



def _reason_and_detail(checks: str) -> tuple[str, str]:
    """The two expressions of ``_checks_sql`` (``... as _reason, ... as _reason_detail``), apart."""
    reason, sep, detail = checks.rpartition(" as _reason,")
    detail = detail.rstrip()
    if not sep or not detail.endswith(" as _reason_detail"):
        raise ValueError("_checks_sql must end with '<reason> as _reason, <detail> as _reason_detail'")
    return reason, detail.removesuffix(" as _reason_detail")


def _loadable_rows(typed_rows: str) -> str:
    """The source's typed rows again, less those with a verdict in ``_cc_checked`` (an anti join on
    ``_row`` whose build side is only the quarantined rows: no sort, no large hash table)."""
    return f"""({typed_rows}
        select t.*, null::varchar as _reason from typed t
        anti join (select _row from _cc_checked where _reason is not null) q on t._row = q._row)"""


def _passed_rows(projection: str, source: str) -> str:
    """(_row, event_id, workflow_id) of the source's rows with no verdict in ``_cc_checked``: the rows
    that passed every check, for the duplicate check when ``_cc_checked`` keeps only failing rows."""
    return f"""(select p._row, p.event_id, p.workflow_id from (select _row, {projection} from {source}) p
        anti join (select _row from _cc_checked where _reason is not null) q on p._row = q._row)"""


def _typed_rows(projection: str, source: str, ts_sql: str) -> str:
    """The CTEs ``projected`` (the source's contract fields) and ``typed`` (with _event_type and _ts)."""
    return f"""with projected as (
            select _row, _problem, {projection}
            from {source}
        ),
        typed as (
            select *, lower(event_type) as _event_type, {ts_sql} as _ts from projected
        )"""


def _validate_and_load(
    con, log_format: str, projection: str, source: str, redacted: list[str], params: dict,
    records: Callable[[object], None] | None = None, in_file_order: bool = False, untrimmed: str | None = None,
) -> tuple[int, int]:
    """Check, deduplicate (dedup.py), redact and insert. ``records`` (the typed Parquet path,
    typed_parquet.py) makes ``_cc_records`` once the quarantined rows are known. ``in_file_order``: the
    source (a file read again) yields its rows in ``_row`` order every time it is read; then
    ``_cc_checked`` keeps only each row's verdict (no copy of the file in memory: nothing spills) and
    the insert reads the source again, less the quarantined rows, with no sort. ``records`` runs after
    that insert (it checks that the file did not change meanwhile). ``untrimmed`` (with
    ``in_file_order``): ``projection`` without its trim() and nullif(); ``projection`` then also yields
    ``_padded`` (a field's trimmed value differs from its text), and when no row to load is padded the
    insert reads the fields through ``untrimmed``: the same values, without trimming every field twice.
    With ``in_file_order``, ``_cc_checked`` holds only the rows that failed a check (and the padded
    ones): the rows that passed are the source's other rows. Returns (rows loaded, rows quarantined)."""
    # every timestamp rule (ISO 8601 / RFC 3339, offsets up to ±14:00, --timestamp-format, --timezone)
    ts_parse = parse_sql("event_ts", timestamp_format=params.get("timestamp_format"), timezone=params.get("timezone"))
    ts_passed = parse_passed_sql("event_ts", timestamp_format=params.get("timestamp_format"), timezone=params.get("timezone"))
    # One statement from the parsed records to the checked rows (no intermediate table), and the
    # parsed records dropped right after: peak memory is the records' text plus the checked rows.
    reason_sql, detail_sql = _reason_and_detail(_checks_sql(
        log_format, params.get("expired_before"), params.get("timestamp_format"), params.get("residency_blocked")))
    typed_rows = _typed_rows(projection, source, ts_parse)
    kept, where = "*", ""
    if in_file_order:
        # only the rows that failed a check (and, with ``untrimmed``, the padded ones: whether a row
        # to load is padded decides how the file is read again); every other row passed and is read
        # again from the source
        kept = "_row, _problem, event_id, workflow_id, _reason" + (", _padded" if untrimmed else "")
        where = "where _reason is not null" + (" or _padded" if untrimmed else "")
    con.execute(
        f"""create temp table _cc_checked as
        {typed_rows},
        checked as (
            select *, {reason_sql} as _reason from typed
        )
        -- the detail repeats every rule: computed only for the rows that failed one
        select {kept}, case when _reason is not null then {detail_sql} end as _reason_detail from checked
        {where}""",
        {k: v for k, v in params.items() if k in ("future_limit", "timestamp_format", "timezone")
         or (k == "salt" and "$salt" in projection)},
    )
    padded_sql = "select exists (select 1 from _cc_checked where _padded and _reason is null)"
    if in_file_order:
        # the rows that passed every check are those of the source less the failing rows of _cc_checked;
        # read untrimmed when none of them is padded (the same values)
        fields = untrimmed if untrimmed and not con.execute(padded_sql).fetchone()[0] else projection
        mark_duplicates(con, valid=_passed_rows(fields, source))
    else:
        mark_duplicates(con)  # hash-based: no sort of the rows (dedup.py)
    insert_rows = _typed_rows(projection, source, ts_passed)
    if untrimmed and in_file_order and not con.execute(padded_sql).fetchone()[0]:
        insert_rows = _typed_rows(untrimmed, source, ts_passed)
    con.execute("drop table if exists _cc_json")
    # redaction (redaction.py): attributes walked at any depth, actor/owner hashed when named
    attributes = redacted_json_sql("attributes", redacted)
    insert_events = f"""insert into raw.workflow_events
        select event_id, workflow_id, run_id, _event_type, _ts, region, stage, status, {redacted_column_sql("owner", redacted)},
               round(try_cast(duration_ms as double))::bigint, try_cast(cost_cents as double),
               try_cast(confidence as double), exception_id, exception_class,
               round(try_cast(severity as double))::integer, {redacted_column_sql("actor", redacted)},
               round(try_cast(attempt as double))::integer,
               error_code, ({attributes})::json,
               {sql_literal(log_format)}, source_event_name, $load_id, $source_file, _row, $now
        from {_loadable_rows(insert_rows) if in_file_order else '_cc_checked'}
        where _reason is null
        {'' if in_file_order else 'order by _row'}"""
    rows_loaded = con.execute(insert_events, used_params(insert_events, params)).fetchone()[0]
    if records is not None:
        records(con)
    # the quarantine copy: a parsed record redacted like a loaded one (every key at any depth, JSON
    # text inside strings); an unparseable one per data_controls.redaction.malformed_records
    policy = params.get("malformed_records", "hash_and_prefix")
    malformed = malformed_record_sql(
        "r._text", redacted, policy,
        prefix_allowed=policy != "hash_and_prefix" or malformed_prefix_allowed(con, redacted),
    )
    insert_quarantine = f"""insert into raw.quarantine
        select $load_id, $source_file, c._row, c._reason, c._reason_detail,
               case when c._reason = 'residency_violation' then {withheld_record_sql("r._text")}
                    when c._problem is null then {redacted_json_sql("r._text", redacted)} else {malformed} end,
               left(c.event_id, 512), left(c.workflow_id, 512), $now
        from _cc_checked c join _cc_records r using (_row)
        where c._reason is not null
        order by c._row"""
    rows_quarantined = con.execute(insert_quarantine, used_params(insert_quarantine, params)).fetchone()[0]
    return rows_loaded, rows_quarantined
