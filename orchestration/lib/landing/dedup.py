"""The duplicate check of landing, hash-based: no sort of the file's rows, no spilling.

Rules (unchanged; docs/event-contract.md): among the rows of a file that pass every other check,
the first row (lowest ``_row``) of each event_id is a candidate to load and every later one is
``duplicate_event_id_in_file``; a first row whose event_id is already in raw.workflow_events is
``duplicate_event_id``.

How: the valid rows' ``hash(event_id)`` (a 64-bit integer) are grouped once (a hash aggregate of
fixed-width keys); only the rows whose hash occurs more than once -- the real repeats and, rarely, a
hash collision -- go through the exact ``row_number() over (partition by event_id order by _row)``.
The earlier-file check joins the file's event_ids with raw.workflow_events, and runs only when that
table has rows. The few rows found are written to ``_cc_checked`` by one UPDATE.
"""
from __future__ import annotations

import duckdb

_IN_FILE_DETAIL = "'event_id ' || '''' || left(event_id, 64) || ''' repeats an earlier row of this file'"
_EARLIER_DETAIL = "'event_id ' || '''' || left(event_id, 64) || ''' was loaded by an earlier file'"


def mark_duplicates(con: duckdb.DuckDBPyConnection, table: str = "_cc_checked") -> int:
    """Set ``_reason``/``_reason_detail`` of the duplicate rows of ``table`` (columns ``_row``,
    ``event_id``, ``_reason``, ``_reason_detail``; ``_reason`` null = passed every other check).
    Returns how many rows were marked."""
    con.execute("drop table if exists _cc_dup")
    con.execute(
        f"""create temp table _cc_dup as
        with valid as (select _row, event_id from {table} where _reason is null),
        repeated_hash as (select hash(event_id) as h from valid group by 1 having count(*) > 1),
        numbered as (
            select _row, event_id, row_number() over (partition by event_id order by _row) as _nth
            from valid where hash(event_id) in (select h from repeated_hash)
        )
        select _row, 'duplicate_event_id_in_file' as _reason, {_IN_FILE_DETAIL} as _reason_detail
        from numbered where _nth > 1"""
    )
    if con.execute("select exists (select 1 from raw.workflow_events)").fetchone()[0]:
        con.execute(
            f"""insert into _cc_dup
            with firsts as (
                select _row, event_id from {table} v
                where _reason is null and not exists (select 1 from _cc_dup d where d._row = v._row)
            ),
            earlier as (
                select distinct e.event_id from raw.workflow_events e
                where e.event_id in (select event_id from firsts)
            )
            select f._row, 'duplicate_event_id', {_EARLIER_DETAIL.replace('event_id,', 'f.event_id,')}
            from firsts f join earlier x on f.event_id = x.event_id"""
        )
    marked = con.execute("select count(*) from _cc_dup").fetchone()[0]
    if marked:
        con.execute(
            f"""update {table} set _reason = d._reason, _reason_detail = d._reason_detail
            from _cc_dup d where {table}._row = d._row"""
        )
    con.execute("drop table _cc_dup")
    return marked
