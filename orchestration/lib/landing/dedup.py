"""The duplicate check of landing, hash-based: no sort of the file's rows, no spilling.

Rules (unchanged; docs/event-contract.md): among the rows of a file that pass every other check,
the first row (lowest ``_row``) of each event_id is a candidate to load and every later one is
``duplicate_event_id_in_file``; a first row whose event_id is already in raw.workflow_events is
``duplicate_event_id``.

How: the valid rows' ``hash(event_id)`` (a 64-bit integer) are grouped once (a hash aggregate of
fixed-width keys); only the rows whose hash occurs more than once -- the real repeats and, rarely, a
hash collision -- go through the exact ``row_number() over (partition by event_id order by _row)``.
The earlier-file check joins the file's event_ids with raw.workflow_events, and runs only when that
table has rows. The few rows found are written to ``_cc_checked`` by one UPDATE (and one INSERT
when it holds only the failing rows: the typed Parquet path).
"""
from __future__ import annotations

import duckdb

_IN_FILE_DETAIL = "'event_id ' || '''' || left(event_id, 64) || ''' repeats an earlier row of this file'"
_EARLIER_DETAIL = "'event_id ' || '''' || left(event_id, 64) || ''' was loaded by an earlier file'"


def mark_duplicates(con: duckdb.DuckDBPyConnection, table: str = "_cc_checked", valid: str | None = None) -> int:
    """Set ``_reason``/``_reason_detail`` of the duplicate rows of ``table`` (columns ``_row``,
    ``event_id``, ``_reason``, ``_reason_detail``; ``_reason`` null = passed every other check).
    ``valid``: a relation of (_row, event_id, workflow_id) of the rows that passed every other check
    when ``table`` holds only the failing rows (and perhaps some passing ones): it is read once for the
    hash aggregate, and again only when a hash repeats or raw.workflow_events has rows; the duplicates
    found are then added to ``table`` (``_problem`` null) or, when it holds them, updated.
    Returns how many rows were marked."""
    failing_only = valid is not None
    if valid is None:
        valid = f"(select _row, event_id, workflow_id from {table} where _reason is null)"
    con.execute("drop table if exists _cc_dup")
    con.execute("drop table if exists _cc_rephash")
    con.execute(
        f"create temp table _cc_rephash as select hash(event_id) as h from {valid} v group by 1 having count(*) > 1"
    )
    con.execute(
        "create temp table _cc_dup (_row bigint, _reason varchar, _reason_detail varchar, event_id varchar, workflow_id varchar)"
    )
    if con.execute("select exists (select 1 from _cc_rephash)").fetchone()[0]:  # real repeats and, rarely, hash collisions: the exact check on those rows only
        con.execute(
            f"""insert into _cc_dup
            with numbered as (
                select _row, event_id, workflow_id, row_number() over (partition by event_id order by _row) as _nth
                from {valid} v where hash(event_id) in (select h from _cc_rephash)
            )
            select _row, 'duplicate_event_id_in_file', {_IN_FILE_DETAIL}, event_id, workflow_id
            from numbered where _nth > 1"""
        )
    if con.execute("select exists (select 1 from raw.workflow_events)").fetchone()[0]:
        con.execute(
            f"""insert into _cc_dup
            with firsts as (
                select _row, event_id, workflow_id from {valid} v
                where not exists (select 1 from _cc_dup d where d._row = v._row)
            ),
            earlier as (
                select distinct e.event_id from raw.workflow_events e
                where e.event_id in (select event_id from firsts)
            )
            select f._row, 'duplicate_event_id', {_EARLIER_DETAIL.replace('event_id,', 'f.event_id,')}, f.event_id, f.workflow_id
            from firsts f join earlier x on f.event_id = x.event_id"""
        )
    marked = con.execute("select count(*) from _cc_dup").fetchone()[0]
    if marked:
        con.execute(
            f"""update {table} set _reason = d._reason, _reason_detail = d._reason_detail
            from _cc_dup d where {table}._row = d._row"""
        )
        if failing_only:
            con.execute(
                f"""insert into {table} by name
                select _row, null::varchar as _problem, event_id, workflow_id, _reason, _reason_detail from _cc_dup d
                where not exists (select 1 from {table} t where t._row = d._row)"""
            )
    con.execute("drop table _cc_dup")
    con.execute("drop table _cc_rephash")
    return marked
