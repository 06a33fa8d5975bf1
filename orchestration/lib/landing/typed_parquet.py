"""The typed Parquet path of landing (telemetry files): Parquet columns go straight to the contract's
fields, with no JSON text in between.

The general path renders each Parquet row as JSON text (``_cc_records``), parses it (``_cc_json``)
and extracts the contract fields with json_transform. Here each contract field is read from its
column directly, as the same text the general path would extract:

* a scalar column: ``column::varchar`` (what the general path puts into, and gets back out of, its
  JSON string);
* a nested or JSON column (STRUCT, MAP, LIST, JSON): the general path's own expression on that one
  column (``json_transform(to_json(struct_pack(...)))``), so an object stays its JSON text, a JSON
  string is unquoted and a JSON null is null;
* a contract field with no column: null. Columns are matched by exact name, as json_transform does.

Then validation runs the same checks, quarantine reasons and redaction (validation._validate_and_load).
The record text a quarantined row keeps (``raw_record``) is rendered exactly as the general path
renders it, but only for the quarantined rows, after the checks: ``records`` reads those rows of the
file again (a second read only when something is quarantined) and checks that the file did not
change meanwhile.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.contract import OPTIONAL_FIELDS, TELEMETRY_FIELDS
from orchestration.lib.landing.common import FileState, LandingError, quote_ident, sql_literal
from orchestration.lib.landing.readers import _parquet_problem

_NESTED_PREFIXES = ("STRUCT", "MAP", "UNION")


def _is_nested(dtype: str) -> bool:
    return dtype.startswith(_NESTED_PREFIXES) or dtype.endswith("]") or dtype == "JSON"


_NUMBER_LIKE = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


def _is_number_like(dtype: str) -> bool:
    """A scalar type whose text (``::varchar``) has no surrounding blanks and is never empty."""
    return dtype in _NUMBER_LIKE or dtype.startswith("DECIMAL")


#: Numeric contract fields (duration_ms, cost_cents, confidence, severity, attempt) whose Parquet column
#: has one of these types are handed to validation in their own type, not as text: every rule reads
#: them through ``try_cast(f as double)``, and for these types ``x::double`` is exactly
#: ``try_cast(x::varchar as double)`` (a DOUBLE's text is its shortest round-trip spelling; an integer's
#: text is exact and both roads round it to the nearest double), so the text and its parsing are
#: skipped. FLOAT (its text is the float's, not the double's), DECIMAL, HUGEINT, UBIGINT and BOOLEAN
#: keep the text road. A rule's detail spells such a value with ``::varchar``, the same text.
_DIRECT_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "DOUBLE")
_NUMERIC_FIELDS = tuple(f for f, t in OPTIONAL_FIELDS.items() if t in ("BIGINT", "DOUBLE", "INTEGER"))


def _direct(field: str, dtype: str | None) -> bool:
    return field in _NUMERIC_FIELDS and dtype in _DIRECT_NUMERIC


def _rendered(name: str, dtype: str) -> str:
    """A column as the general path renders it into the record's JSON (readers._read_parquet)."""
    ident = quote_ident(name)
    return f"to_json({ident})" if _is_nested(dtype) else f"{ident}::varchar"


def _field_text(name: str, dtype: str) -> str:
    """The text the general path's json_transform extracts for this column, before trimming."""
    if not _is_nested(dtype):
        return f"{quote_ident(name)}::varchar"
    structure = sql_literal(json.dumps({"v": "VARCHAR"}))
    return f"json_transform(to_json(struct_pack(v := {_rendered(name, dtype)})), {structure}).v"


@dataclass
class TypedParquet:
    """What landing needs to read one Parquet file on the typed path."""

    path: Path
    columns: list[tuple[str, str]]  # (name, DuckDB type) in file order
    state: FileState  # the file's state when it was hashed: a later read must find it unchanged

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.columns]

    def _scan(self) -> str:
        return f"read_parquet({sql_literal(str(self.path))}, file_row_number=true)"

    def projection(self, trimmed: bool = True) -> tuple[str, str]:
        """(columns, from-clause) for validation._validate_and_load: each contract field as trimmed
        text (null when blank), exactly as projection._telemetry_projection yields it, and ``_padded``:
        whether trimming changed a field of the row. ``trimmed=False``: each field as read (the same
        values for rows with no padded field; validation's ``untrimmed``)."""
        types = dict(self.columns)
        inner = ", ".join(
            f"{quote_ident(f) if _direct(f, types.get(f)) else _field_text(f, types[f]) if f in types else 'null::varchar'}"
            f" as {f}" for f in TELEMETRY_FIELDS
        )
        source = f"(select file_row_number + 1 as _row, null::varchar as _problem, {inner} from {self._scan()})"
        if not trimmed:
            return ", ".join([*TELEMETRY_FIELDS, "null::varchar as source_event_name"]), source
        # the text of a number, boolean or timestamp column is never blank nor padded: no trim needed;
        # each text field is trimmed once, one level below the comparison that sets _padded
        text = [f for f in TELEMETRY_FIELDS if f in types and not _is_number_like(types[f])]
        trims = "".join(f", nullif(trim({f}), '') as _trimmed_{f}" for f in text)
        source = f"(select *{trims} from {source})"
        cols = [f"_trimmed_{f} as {f}" if f in text else f for f in TELEMETRY_FIELDS]
        cols.append("null::varchar as source_event_name")
        padded = " or ".join(f"_trimmed_{f} is distinct from {f}" for f in text)
        cols.append(f"({padded or 'false'}) as _padded")
        return ", ".join(cols), source

    def records(self, con: duckdb.DuckDBPyConnection) -> None:
        """``_cc_records`` (_row, _text, _problem) for the quarantined rows of ``_cc_checked`` only,
        their text rendered as readers._read_parquet renders every row; runs after the loaded rows
        were inserted (validation._validate_and_load), and refuses the landing if the file changed."""
        text = "to_json(struct_pack(" + ", ".join(
            f"{quote_ident(n)} := {_rendered(n, t)}" for n, t in self.columns
        ) + "))::varchar"
        quarantined = "select _row - 1 from _cc_checked where _reason is not null"
        if not con.execute(f"select exists ({quarantined})").fetchone()[0]:
            con.execute("create temp table _cc_records (_row bigint, _text varchar, _problem varchar)")
        else:
            con.execute(
                f"""create temp table _cc_records as
                select file_row_number + 1 as _row, {text} as _text, null::varchar as _problem
                from {self._scan()} where file_row_number in ({quarantined})"""
            )
        # the file was read again (the loaded rows, these records): it must be the bytes hashed
        if FileState.of(self.path) != self.state:
            from orchestration.lib.landing.load import CHANGED_WHILE_LANDING

            raise LandingError(self.path, CHANGED_WHILE_LANDING, transient=True)


def describe_parquet(con: duckdb.DuckDBPyConnection, path: Path, state: FileState) -> TypedParquet | None:
    """The typed path's reader of a Parquet file; None for an empty (zero-byte) file, which the
    general path lands as zero rows. A file that is not Parquet is refused (LandingError)."""
    if path.stat().st_size == 0:
        return None
    try:
        described = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise LandingError(path, _parquet_problem(exc)) from None
    return TypedParquet(path, [(r[0], r[1]) for r in described], state)


def is_parquet_read_error(exc: duckdb.Error) -> bool:
    """Whether a DuckDB error raised while the typed path checked the rows came from reading the
    Parquet file (a damaged page, invalid UTF-8): the file is refused as the general path refuses it
    (readers._parquet_problem), not retried as a warehouse error."""
    retry = (duckdb.OutOfMemoryException, duckdb.TransactionException, duckdb.InterruptException,
             duckdb.ConnectionException)
    return not isinstance(exc, retry) and "parquet" in str(exc).lower()
