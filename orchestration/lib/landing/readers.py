"""Step 1 of landing: read a file with DuckDB into temp tables of records (``_cc_records`` with the
record's text and, for records that could not be parsed, why; ``_cc_json`` with the parsed JSON)."""
from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.landing.common import LandingError, quote_ident, sql_literal

# DuckDB's CSV reader on one "column" per line: a delimiter and quote that never occur in valid JSON
# (raw control characters are illegal in JSON text), so every JSON Lines line is one value.
_LINE_DELIM = "\x1e"

#: Longest JSON Lines line or CSV record read; a longer one is quarantined (malformed_record), the
#: rest of the file lands (docs/event-contract.md).
MAX_LINE_BYTES = 16 * 1024 * 1024

#: DuckDB's CSV reader (strict mode) refuses a whole file holding a lone carriage return, or CRLF
#: and LF line ends mixed. A JSON Lines file holding any CR is read from a copy with CRLF line ends
#: made LF and each lone CR made this marker; the marker turns back into a CR in the line's text,
#: so JSON decides: a CR between tokens is JSON whitespace (the line loads), one inside a string
#: makes it invalid JSON (malformed_record).
_CR_MARKER = "\x1f\x1f\x1f"
_LONE_CR = re.compile(rb"\r(?!\n)")

# The reject reasons of DuckDB's CSV reader, in a user's words (the quarantine detail).
_REJECT_DETAIL = f"""case error_type
        when 'LINE SIZE OVER MAXIMUM' then 'the line is longer than the {MAX_LINE_BYTES >> 20} MiB limit'
        when 'INVALID ENCODING' then 'the line is not UTF-8 text'
        when 'TOO MANY COLUMNS' then 'too many fields'
        when 'MISSING COLUMNS' then 'too few fields'
        when 'UNQUOTED VALUE' then 'a quote inside an unquoted field'
        else lower(error_type) || ': ' || error_message end"""


def _first_line(exc: BaseException) -> str:
    """The first line of a DuckDB error without its class prefix: no parser dump, no SQL."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^[A-Za-z ]*(Error|Exception): ", "", text)[:300]


@contextmanager
def jsonl_source(path: Path, *, carriage_return: bool):
    """The file DuckDB reads for a JSON Lines file: the file itself, or (when it holds a CR) a temporary
    copy with CRLF made LF and each lone CR made ``_CR_MARKER`` (bytes methods, no per-row Python)."""
    if not carriage_return:
        yield path
        return
    tmp = Path(tempfile.mkdtemp(prefix="cc_landing_"))
    try:
        copy = tmp / "lines.jsonl"
        marker = _CR_MARKER.encode()
        with path.open("rb") as src, copy.open("wb") as dst:
            carry = b""
            for chunk in iter(lambda: src.read(1 << 20), b""):
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                if carry:
                    chunk = chunk[:-1]
                dst.write(_LONE_CR.sub(marker, chunk.replace(b"\r\n", b"\n")))
            if carry:
                dst.write(marker)
        yield copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _create_empty_records(con: duckdb.DuckDBPyConnection) -> None:
    """An empty file (zero bytes, or a CSV with a header only): no records."""
    con.execute("create temp table _cc_records (_row bigint, _text varchar, _problem varchar)")
    con.execute("create temp table _cc_json (_row bigint, _problem varchar, j json)")


# --------------------------------------------------------------------------------------------------
# Step 1: read the file into a temp table `_src` of VARCHAR columns, one row per record, with the
# record's row/line number and, for records that could not be parsed, why.
# --------------------------------------------------------------------------------------------------


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table if exists _cc_rejects")
    con.execute("drop table if exists _cc_rejects_scan")


def _line_numbers_sql(table: str, header_lines: int) -> str:
    """Map a read_csv result's insertion order to file line numbers, accounting for rejected lines.

    Parsed record k (1-based) sits at line k + header + #(rejects j with line_j - header - j < k).
    """
    return f"""
        with parsed as (select rowid + 1 as k, * from {table}),
        rejects as (
            select line - {header_lines} - row_number() over (order by line) as parsed_before
            from (select distinct line from _cc_rejects)
        )
        select p.k + {header_lines} + (select count(*) from rejects r where r.parsed_before < p.k) as _row, p.*
        from parsed p
    """


def _json_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every top-level key that occurs in the parsed records (JSON Lines: one scan)."""
    return [r[0] for r in con.execute("select distinct unnest(json_keys(j)) from _cc_json order by 1").fetchall()]


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, *, source: Path | None = None) -> None:
    """Read ``source`` (default ``path``; see ``jsonl_source``) as JSON Lines; errors name ``path``."""
    if path.stat().st_size == 0:
        _create_empty_records(con)
        return None
    _drop_rejects(con)
    try:
        con.execute(
            f"""create temp table _cc_lines as
            select * from read_csv(?, columns={{'line': 'VARCHAR'}}, header=false, delim={sql_literal(_LINE_DELIM)},
                quote='', escape='', auto_detect=false, store_rejects=true,
                rejects_table='_cc_rejects', rejects_scan='_cc_rejects_scan', max_line_size={MAX_LINE_BYTES})""",
            [str(source or path)],
        )
    except duckdb.Error as exc:
        raise LandingError(
            path, f"cannot be read as JSON Lines: it is not text in lines ({_first_line(exc)}); is it a binary file?"
        ) from None
    con.execute(f"create temp table _cc_numbered as {_line_numbers_sql('_cc_lines', 0)}")
    restored = f"replace(line, {sql_literal(_CR_MARKER)}, chr(13))"
    con.execute(
        f"""create temp table _cc_records as
        select _row, {restored} as _text,
               case when line is null or trim({restored}) = '' then 'blank'
                    when not json_valid({restored}) then
                        'invalid JSON' || case when contains(line, {sql_literal(_CR_MARKER)})
                                               then ' (a raw carriage return inside a value)' else '' end
                    when json_type({restored}) <> 'OBJECT' then 'not a JSON object'
               end as _problem
        from _cc_numbered
        union all
        select line, {restored.replace('line', 'min(csv_line)')}, 'unreadable line: ' || min({_REJECT_DETAIL})
        from _cc_rejects group by line"""
    )
    con.execute("drop table _cc_lines")
    con.execute("drop table _cc_numbered")
    con.execute("delete from _cc_records where _problem = 'blank'")  # blank lines are not records
    n_records, n_objects = con.execute(
        "select count(*), count(*) filter (where _problem is null) from _cc_records"
    ).fetchone()
    if n_records and not n_objects:
        raise LandingError(
            path, f"no line of its {n_records} non-blank lines is a JSON object; is it JSON Lines?"
        )
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return None  # JSON Lines has no header: keys differ per line (see _json_keys)


def _read_csv_header(path: Path) -> list[str]:
    """The header's column names. Only the header line is decoded: a data record that is not UTF-8
    is that record's problem (malformed_record), not the file's."""
    with path.open("rb") as fh:
        line = fh.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise LandingError(path, f"the header line is longer than {MAX_LINE_BYTES >> 20} MiB; is it a CSV file?")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LandingError(path, "the header line is not UTF-8 text; is it a CSV file?") from None
    header = next(csv.reader(io.StringIO(text)), None)
    if not header:
        raise LandingError(path, "the first line is blank: a CSV file starts with its header line")
    names = [h.strip() for h in header]
    if any(not n for n in names):
        raise LandingError(path, f"the header has a blank column name: {header!r}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LandingError(path, f"the header names a column more than once: {', '.join(dupes)}")
    return names


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, *, carriage_return: bool = False) -> list[str] | None:
    """Read a CSV file. DuckDB's reader refuses a whole file with a lone carriage return in an
    unquoted field or with CRLF and LF line ends mixed; such a file (``carriage_return``: it holds a
    CR) is read again from a copy made by ``jsonl_source`` (CRLF made LF, lone CRs marked, the marks
    turned back into CRs in the values), so one odd record does not refuse the file."""
    if path.stat().st_size == 0:
        _create_empty_records(con)
        return None  # no header to check: an empty file lands with 0 rows, whatever its format
    names = _read_csv_header(path)
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    read = f"""create temp table _cc_rows as
            select * from read_csv(?, columns={columns}, header=true, delim=',', quote='"', escape='"',
                auto_detect=false, store_rejects=true, rejects_table='_cc_rejects',
                rejects_scan='_cc_rejects_scan', max_line_size={MAX_LINE_BYTES})"""
    restore = False
    _drop_rejects(con)
    try:
        con.execute(read, [str(path)])
    except duckdb.Error as exc:
        if not carriage_return:
            raise LandingError(path, _csv_problem(exc)) from None
        _drop_rejects(con)
        con.execute("drop table if exists _cc_rows")
        with jsonl_source(path, carriage_return=True) as copy:
            try:
                con.execute(read, [str(copy)])
            except duckdb.Error as again:
                raise LandingError(path, _csv_problem(again)) from None
        restore = True
    con.execute(f"create temp table _cc_numbered as {_line_numbers_sql('_cc_rows', 1)}")
    cols = ", ".join(quote_ident(n) for n in names)

    def value(n: str) -> str:
        return f"replace({quote_ident(n)}, {sql_literal(_CR_MARKER)}, chr(13))" if restore else quote_ident(n)

    con.execute(
        f"""create temp table _cc_records as
        select _row, to_json(struct_pack({', '.join(f'{quote_ident(n)} := {value(n)}' for n in names)}))::varchar
                   as _text,
               null::varchar as _problem
        from (select _row, {cols} from _cc_numbered)
        union all
        select line, min(csv_line), 'unreadable CSV record: ' || min({_REJECT_DETAIL})
        from _cc_rejects group by line"""
    )
    con.execute("drop table _cc_rows")
    con.execute("drop table _cc_numbered")
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return names


def _csv_problem(exc: duckdb.Error) -> str:
    if "state machine reached an invalid state" in str(exc):
        return "cannot be read as CSV: its quoting or line structure is broken; is it a CSV text file?"
    return f"cannot be read as CSV: {_first_line(exc)}"


def _parquet_problem(exc: duckdb.Error) -> str:
    text = str(exc)
    if "magic bytes" in text or "too small to be a Parquet file" in text:
        return "is not a Parquet file, or is truncated (no Parquet footer at its end)"
    return f"cannot be read as Parquet; is it truncated or damaged? ({_first_line(exc)})"


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[str] | None:
    if path.stat().st_size == 0:
        _create_empty_records(con)
        return None
    try:
        described = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise LandingError(path, _parquet_problem(exc)) from None
    names = [r[0] for r in described]
    # Nested/typed values are rendered as text the same way JSON Lines values are; timestamps with
    # a time zone render with their offset (the session is UTC), naive ones are UTC by contract.
    rendered = []
    for name, dtype, *_ in described:
        ident = quote_ident(name)
        if dtype.startswith(("STRUCT", "MAP")) or dtype.endswith("[]") or dtype == "JSON":
            rendered.append(f"{ident} := to_json({ident})")
        else:
            rendered.append(f"{ident} := {ident}::varchar")
    try:
        con.execute(
            f"""create temp table _cc_records as
            select file_row_number + 1 as _row, to_json(struct_pack({', '.join(rendered)}))::varchar as _text,
                   null::varchar as _problem
            from read_parquet(?, file_row_number=true)""",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise LandingError(path, _parquet_problem(exc)) from None
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return names

