"""Timestamps at landing: every event time is parsed here, into a UTC ``timestamp`` (no offset).

Rules (docs/event-contract.md, "Timestamps", says the same in prose):

* ISO 8601 / RFC 3339 date-times: ``2026-11-20T10:00:00Z``, ``2026-11-20 12:00:00.123+02:00``,
  ``2026-11-20t10:00:00z`` (RFC 3339 allows lower-case ``t`` and ``z``). A time of day is required.
* A UTC offset is ``Z``, ``±HH``, ``±HHMM`` or ``±HH:MM`` with minutes below 60 and at most
  **±14:00** (UTC-12:00 .. UTC+14:00 is every offset a civil clock uses; RFC 3339's grammar would
  let ``+23:59`` through, but such a value is a broken producer, not a place). Beyond it the row is
  ``unparseable_timestamp`` and the detail names the offset.
* A value with no offset is UTC, or local time in ``timezone`` (an IANA name) when one is given.
  In the hour repeated when daylight saving time ends, a local time is read as the later (standard
  time) instant; in the hour skipped when it starts, with the offset in force before the change
  (02:30 on a spring-forward day in Europe/Berlin is 01:30 UTC). These are DuckDB's (ICU's) rules.
* ``timestamp_format`` (strptime syntax, DuckDB ``try_strptime``) reads other layouts such as
  ``%d-%m-%Y %H:%M:%S``. It is tried first; a value it does not match may still be ISO 8601. With
  ``%z`` or ``%Z`` in the format the value carries its own offset; otherwise ``timezone`` applies.

The SQL built here references the named parameters ``$timestamp_format`` and ``$timezone`` only
when they are set (``timestamp_params`` gives the dict to pass).
"""
from __future__ import annotations

import duckdb

from orchestration.lib.landing.common import sql_literal

#: Largest accepted UTC offset, in minutes (±14:00).
MAX_OFFSET_MINUTES = 14 * 60

#: ISO 8601 / RFC 3339 date-time: date, 'T' (either case) or a space, time, optional offset.
ISO_TS_PATTERN = (
    r"^\s*(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


class TimestampOptionError(ValueError):
    """--timestamp-format or --timezone cannot be used; the message says why."""


def has_own_offset(timestamp_format: str | None) -> bool:
    return bool(timestamp_format) and ("%z" in timestamp_format or "%Z" in timestamp_format)


def timestamp_params(timestamp_format: str | None, timezone: str | None) -> dict[str, str]:
    """The named parameters the SQL of ``parse_sql`` / ``unparseable_detail_sql`` references."""
    params = {}
    if timestamp_format:
        params["timestamp_format"] = timestamp_format
    if timezone:
        params["timezone"] = timezone
    return params


def check_timestamp_options(timestamp_format: str | None, timezone: str | None) -> None:
    """Raise TimestampOptionError unless the format is a usable strptime format and the zone a
    known IANA name (DuckDB's ICU list, the one the parsing uses)."""
    if timestamp_format is not None:
        if "%" not in timestamp_format:
            raise TimestampOptionError(
                f"--timestamp-format {timestamp_format!r} has no strptime directive; "
                "write the layout with %Y %m %d %H %M %S ..., e.g. '%d-%m-%Y %H:%M:%S'"
            )
        try:
            duckdb.connect().execute("select try_strptime('', $f)", {"f": timestamp_format}).fetchall()
        except duckdb.Error as exc:
            raise TimestampOptionError(
                f"--timestamp-format {timestamp_format!r} is not a valid strptime format: "
                f"{str(exc).splitlines()[0]}"
            ) from None
    if timezone is not None:
        con = duckdb.connect()
        names = [r[0] for r in con.execute("select name from pg_timezone_names()").fetchall()]
        if timezone not in names:
            near = [n for n in names if n.lower() == timezone.lower()]
            raise TimestampOptionError(
                f"--timezone {timezone!r} is not a known IANA time zone"
                + (f"; did you mean {near[0]!r}?" if near else "; give a name such as Europe/Berlin or America/New_York")
            )


#: An offset beyond ±14:00, or with minutes of 60 or more, at the end of an ISO_TS_PATTERN match.
BAD_OFFSET_PATTERN = r"[+-](?:1[5-9]|[2-9]\d)(?::?\d{2})?\s*$|[+-]14:?(?:0[1-9]|[1-5]\d)\s*$|[+-]\d{2}:?[6-9]\d\s*$"
#: Whether an ISO_TS_PATTERN match carries an offset (Z or ±HH[[:]MM]).
_OFFSET_PATTERN = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


#: The commonest ISO 8601 spellings (offset ``Z``, upper-case ``T``; whole seconds, milliseconds or
#: microseconds) as GLOB patterns, milliseconds first (JavaScript's toISOString). A value of one of
#: these shapes passes both regexps of ``_iso_ok`` and casts to the same instant as a plain
#: ``timestamp`` as through ``timestamptz`` (or to null both ways: 2026-02-30), so it skips the two
#: regexps, upper() and trim(): a third of the cost of parsing. Every other value takes the full rules.
_DIGIT = "[0-9]"
FAST_ISO_GLOBS = tuple(
    f"{_DIGIT * 4}-{_DIGIT * 2}-{_DIGIT * 2}T{_DIGIT * 2}:{_DIGIT * 2}:{_DIGIT * 2}{fraction}Z"
    for fraction in ("." + _DIGIT * 3, "", "." + _DIGIT * 6)
)


def _fast_iso(value: str) -> str:
    """SQL: the CASE branch of a value of one of the FAST_ISO_GLOBS shapes (see there)."""
    shapes = " or ".join(f"{value} glob {sql_literal(g)}" for g in FAST_ISO_GLOBS)
    return f"when {shapes} then try_cast({value} as timestamp) " if shapes else ""


def _iso_ok(value: str) -> str:
    return (
        f"(regexp_matches({value}, {sql_literal(ISO_TS_PATTERN)}) "
        f"and not regexp_matches({value}, {sql_literal(BAD_OFFSET_PATTERN)}))"
    )


def _localize(naive: str, timezone: str | None) -> str:
    """A naive timestamp in the log's time zone (UTC when none) as a naive UTC timestamp."""
    return f"timezone('UTC', timezone($timezone, {naive}))" if timezone else naive


def parse_sql(value: str, *, timestamp_format: str | None = None, timezone: str | None = None) -> str:
    """SQL: the text ``value`` as a naive UTC timestamp, or NULL when it breaks the rules above.

    Two regexp_matches and DuckDB's own cast (the session time zone is UTC, so a value without an
    offset casts as UTC), after a fast path for the commonest shapes (FAST_ISO_GLOBS): regexp_extract
    with groups, or string surgery, cost 2-6 times as much on large files."""
    text = f"upper(trim({value}))"
    with_offset = f"timezone('UTC', try_cast({text} as timestamptz))"
    if timezone:
        iso_utc = (
            f"case {_fast_iso(value)}when not {_iso_ok(value)} then null "
            f"when regexp_matches({value}, {sql_literal(_OFFSET_PATTERN)}) then {with_offset} "
            f"else {_localize(f'try_cast({text} as timestamp)', timezone)} end"
        )
    else:
        iso_utc = f"case {_fast_iso(value)}when {_iso_ok(value)} then {with_offset} end"
    if not timestamp_format:
        return f"({iso_utc})"
    parsed = f"try_strptime(trim({value}), $timestamp_format)"
    fmt_utc = f"timezone('UTC', {parsed})" if has_own_offset(timestamp_format) else _localize(parsed, timezone)
    return f"coalesce({fmt_utc}, {iso_utc})"


def parse_passed_sql(value: str, *, timestamp_format: str | None = None, timezone: str | None = None) -> str:
    """``parse_sql`` for a value known to have passed it (its row loads): without a format or time zone
    the ISO 8601 checks are known true, so only the cast is left (the same value, two regexps fewer)."""
    if timestamp_format or timezone:
        return parse_sql(value, timestamp_format=timestamp_format, timezone=timezone)
    # A value that passed the rules and has this shape (so no blanks around it, an upper-case T and
    # offset Z) is a FAST_ISO_GLOBS value, or one with 1-9 fraction digits or blanks before the Z: for
    # all of them a plain timestamp cast is the same instant (tested), and LIKE costs a fifth of GLOB.
    fast = f"when {value} like '____-__-__T__:__:__%Z' then try_cast({value} as timestamp) " if FAST_ISO_GLOBS else ""
    return f"case {fast}when true then timezone('UTC', try_cast(upper(trim({value})) as timestamptz)) end"


def unparseable_detail_sql(value: str, *, timestamp_format: str | None = None, field: str = "event_ts") -> str:
    """SQL: the reason_detail of an unparseable_timestamp row (hints.py reads the quoted value back):
    ``event_ts '<value>' is not ISO 8601``, ``... has UTC offset +24:00 (accepted: -14:00 to +14:00)``
    or ``... matches neither --timestamp-format '<format>' nor ISO 8601``."""
    quoted = f"coalesce('''' || left({value}, 64) || '''', 'null')"
    otherwise = (
        "' matches neither --timestamp-format ''' || $timestamp_format || ''' nor ISO 8601'"
        if timestamp_format
        else "' is not ISO 8601'"
    )
    offset = f"regexp_extract(trim({value}), '[+-]\\d{{2}}(:?\\d{{2}})?$')"
    why = (
        f"case when regexp_matches({value}, {sql_literal(ISO_TS_PATTERN)}) "
        f"and regexp_matches({value}, {sql_literal(BAD_OFFSET_PATTERN)}) "
        f"then ' has UTC offset ' || {offset} || ' (accepted: -14:00 to +14:00)' else {otherwise} end"
    )
    return f"{sql_literal(field + ' ')} || {quoted} || {why}"
