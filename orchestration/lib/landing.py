"""Governed landing of workflow event files into the warehouse (raw.workflow_events).

One code path serves the `command-center ingest` command and the Dagster landing asset:

    land_file(con, path, register=..., salt=...)  ->  LandingResult

What it guarantees (docs/event-contract.md says the same in prose):

* DuckDB reads the file itself (read_csv / read_parquet, JSON functions); no Python touches rows.
* Exactly once per file content: the load ledger keys on the file's sha256; landing the same bytes
  again changes nothing and returns status ``already_loaded``.
* Every row read is either loaded or quarantined with a reason code (contract.REASON_CODES); the
  ledger's check constraint enforces rows_read = rows_loaded + rows_quarantined.
* A file that cannot be read at all is refused whole (LandingError naming the file and the problem);
  the whole file lands in one transaction, so nothing of a refused file is kept.
* Fields named in the register's data_controls.redaction.fields are replaced by a salted sha256 hash
  (inside ``attributes`` and at the top level of a record), in loaded rows and in quarantine alike.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.contract import (
    EVENT_TYPES,
    EXCEPTION_EVENT_TYPES,
    MAX_FUTURE_SKEW_HOURS,
    MAX_IDENTIFIER_LENGTH,
    MINIMAL_REQUIRED_FIELDS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    TELEMETRY_FIELDS,
)
from orchestration.lib.register import Register
from orchestration.lib.warehouse import ensure_raw_schema

FILE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
LOG_FORMATS = ("telemetry", "minimal")

_NUMERIC_FIELDS = {k: v for k, v in OPTIONAL_FIELDS.items() if v in ("BIGINT", "DOUBLE", "INTEGER")}
_INTEGER_FIELDS = {k for k, v in _NUMERIC_FIELDS.items() if v in ("BIGINT", "INTEGER")}
_IDENTIFIER_FIELDS = ("event_id", "workflow_id", "run_id", "region", "exception_id", "exception_class")
_ISO_TS_PATTERN = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?\s*$"
_CONTROL_CHARS = r"[\x00-\x1f\x7f]"
# DuckDB's CSV reader on one "column" per line: a delimiter and quote that never occur in valid JSON
# (raw control characters are illegal in JSON text), so every JSON Lines line is one value.
_LINE_DELIM = "\x1e"
# Masking a redacted key's value in text that is not JSON: key, optional quotes, ':' or '=', the value.
_MASK_PATTERN = r'(["]*\s*[:=]\s*["]*)[^",}]*'
_MASK_REPLACEMENT = r"\1<redacted>"


class LandingError(Exception):
    """The file was refused whole. The message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str, *, transient: bool = False):
        self.path = str(path)
        self.problem = problem
        #: True when the failure is not about the file's content (a database error mid-load): the
        #: same file may land on a later try, so it is not remembered as refused.
        self.transient = transient
        super().__init__(f"{path}: {problem}")


@dataclass
class LandingResult:
    file_path: str
    file_sha256: str
    status: str  # "loaded" or "already_loaded"
    load_id: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    loaded_at: datetime | None = None

    @property
    def summary(self) -> str:
        if self.status == "already_loaded":
            return (
                f"{self.file_path}: already loaded (load {self.load_id} at {self.loaded_at:%Y-%m-%d %H:%M:%S} UTC, "
                "same sha256); nothing changed"
            )
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.quarantine_reasons.items()))
        return (
            f"{self.file_path}: read {self.rows_read}, loaded {self.rows_loaded}, "
            f"quarantined {self.rows_quarantined}" + (f" ({reasons})" if reasons else "")
        )


def file_format_of(path: Path | str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FILE_FORMATS:
        raise LandingError(
            path, f"unsupported file extension {suffix or '(none)'!r}; expected one of {', '.join(sorted(FILE_FORMATS))}"
        )
    return FILE_FORMATS[suffix]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


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


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    _drop_rejects(con)
    try:
        con.execute(
            f"""create temp table _cc_lines as
            select * from read_csv(?, columns={{'line': 'VARCHAR'}}, header=false, delim={sql_literal(_LINE_DELIM)},
                quote='', escape='', auto_detect=false, store_rejects=true,
                rejects_table='_cc_rejects', rejects_scan='_cc_rejects_scan', max_line_size=16777216)""",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise LandingError(path, f"cannot be read as JSON Lines: {exc}") from None
    con.execute(f"create temp table _cc_numbered as {_line_numbers_sql('_cc_lines', 0)}")
    con.execute(
        """create temp table _cc_records as
        select _row, line as _text,
               case when line is null or trim(line) = '' then 'blank'
                    when not json_valid(line) then 'invalid JSON'
                    when json_type(line) <> 'OBJECT' then 'not a JSON object'
               end as _problem
        from _cc_numbered
        union all
        select line, min(csv_line), 'unreadable line: ' || min(error_type || ': ' || error_message)
        from _cc_rejects group by line"""
    )
    con.execute("drop table _cc_lines")
    con.execute("drop table _cc_numbered")
    con.execute("delete from _cc_records where _problem = 'blank'")  # blank lines are not records
    n_records, n_objects = con.execute(
        "select count(*), count(*) filter (where _problem is null) from _cc_records"
    ).fetchone()
    if n_records and not n_objects:
        raise LandingError(path, f"no line of its {n_records} non-blank lines is a JSON object; is it JSON Lines?")
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return None  # JSON Lines has no header: keys differ per line (see _json_keys)


def _read_csv_header(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(io.StringIO(fh.readline())), None)
    except UnicodeDecodeError:
        raise LandingError(path, "the header line is not UTF-8 text; is it a CSV file?") from None
    if not header:
        raise LandingError(path, "the file is empty or has no header line")
    names = [h.strip() for h in header]
    if any(not n for n in names):
        raise LandingError(path, f"the header has a blank column name: {header!r}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LandingError(path, f"the header names a column more than once: {', '.join(dupes)}")
    return names


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    names = _read_csv_header(path)
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    _drop_rejects(con)
    try:
        con.execute(
            f"""create temp table _cc_rows as
            select * from read_csv(?, columns={columns}, header=true, delim=',', quote='"', escape='"',
                auto_detect=false, store_rejects=true, rejects_table='_cc_rejects',
                rejects_scan='_cc_rejects_scan', max_line_size=16777216)""",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise LandingError(path, f"cannot be read as CSV: {exc}") from None
    con.execute(f"create temp table _cc_numbered as {_line_numbers_sql('_cc_rows', 1)}")
    cols = ", ".join(quote_ident(n) for n in names)
    con.execute(
        f"""create temp table _cc_records as
        select _row, to_json(struct_pack({', '.join(f'{quote_ident(n)} := {quote_ident(n)}' for n in names)}))::varchar
                   as _text,
               null::varchar as _problem
        from (select _row, {cols} from _cc_numbered)
        union all
        select line, min(csv_line), 'unreadable CSV record: ' || min(error_type || ': ' || error_message)
        from _cc_rejects group by line"""
    )
    con.execute("drop table _cc_rows")
    con.execute("drop table _cc_numbered")
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return names


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    try:
        described = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise LandingError(path, f"cannot be read as Parquet: {exc}") from None
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
        raise LandingError(path, f"cannot be read as Parquet: {exc}") from None
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return names


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
    keys: list[str], *, workflow: str, region: str | None, column_map: Mapping[str, str]
) -> tuple[str, list[str]]:
    """Project a minimum viable event log (case_id, event_name, timestamp, actor, ...) onto the contract.

    Each case is a run of ``workflow``; every event lands as a stage_completed event whose stage is the
    event_name (kept also in source_event_name); other columns go into attributes.
    """
    mapped = {f: column_map.get(f, f) for f in (*MINIMAL_REQUIRED_FIELDS, "event_id", "region")}
    used = {mapped[f] for f in MINIMAL_REQUIRED_FIELDS}
    if "event_id" in column_map or "event_id" in keys:
        used.add(mapped["event_id"])
    if "region" in column_map or "region" in keys:
        used.add(mapped["region"])
    extras = [k for k in keys if k not in used]
    case_id, event_name, ts, actor = (_field_text(mapped[f]) for f in MINIMAL_REQUIRED_FIELDS)
    if mapped["event_id"] in used:
        event_id = _field_text(mapped["event_id"])
    else:
        # Idempotency key for logs without one: the event's identity within its workflow.
        # The instant, not its spelling: '...T10:00:00Z' and '...T12:00:00+02:00' are the same event.
        instant = f"coalesce(strftime(timezone('UTC', try_cast({ts} as timestamptz)), '%Y-%m-%dT%H:%M:%S.%fZ'), {ts})"
        event_id = (
            f"'mvl_' || left(sha256(concat_ws(chr(31), {sql_literal(workflow)}, {case_id}, {event_name}, "
            f"{instant}, coalesce({actor}, ''))), 32)"
        )
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
    return ", ".join(projection), "_cc_json", [mapped[f] for f in MINIMAL_REQUIRED_FIELDS]


# --------------------------------------------------------------------------------------------------
# Step 3: validate (first failing rule wins), redact, split into loaded and quarantined.
# --------------------------------------------------------------------------------------------------


def _redact_json_sql(expr: str, fields: list[str]) -> str:
    """Replace each redacted field, top level and inside attributes, by 'sha256:' || sha256(salt || value)."""
    out = expr
    for f in fields:
        top = sql_literal("$." + f)
        nested = sql_literal("$.attributes." + f)
        hashed_top = f"'sha256:' || sha256($salt || json_extract_string({out}, {top}))"
        hashed_nested = f"'sha256:' || sha256($salt || json_extract_string({out}, {nested}))"
        out = f"""(case when json_extract({out}, {top}) is not null
                   then json_merge_patch({out}, json_object({sql_literal(f)}, {hashed_top})) else {out}::json end)"""
        out = f"""(case when json_type({out}, '$.attributes') = 'OBJECT' and json_extract({out}, {nested}) is not null
                   then json_merge_patch({out}, json_object('attributes', json_object({sql_literal(f)}, {hashed_nested})))
                   else {out}::json end)"""
    return out


def _mask_text_sql(expr: str, fields: list[str]) -> str:
    """For text that is not parseable JSON: mask the value after any redacted key (cannot hash it safely)."""
    out = expr
    for f in fields:
        pattern = sql_literal(f + _MASK_PATTERN)
        replacement = sql_literal(f + _MASK_REPLACEMENT)
        out = f"regexp_replace({out}, {pattern}, {replacement}, 'g')"
    return out


def _checks_sql(log_format: str) -> str:
    required = MINIMAL_REQUIRED_FIELDS if log_format == "minimal" else REQUIRED_FIELDS
    col = (lambda f: f"_min_{f}") if log_format == "minimal" else (lambda f: f)
    missing = " ".join(f"when {col(f)} is null then {sql_literal(f)}" for f in required)
    if log_format == "minimal":
        missing += " when region is null then 'region (pass --region or map a region column)'"
    bad_ident = " ".join(
        f"when length({f}) > {MAX_IDENTIFIER_LENGTH} or regexp_matches({f}, {sql_literal(_CONTROL_CHARS)}) then {sql_literal(f)}"
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
    negative = " ".join(
        f"when try_cast({f} as double) < 0 then {sql_literal(f)}" for f in ("duration_ms", "cost_cents", "attempt")
    )
    event_types = ", ".join(sql_literal(t) for t in EVENT_TYPES)
    exc_types = ", ".join(sql_literal(t) for t in EXCEPTION_EVENT_TYPES)
    return f"""
        case when _problem is not null then 'malformed_record'
             when (case {missing} end) is not null then 'missing_required_field'
             when (case {bad_ident} end) is not null then 'invalid_identifier'
             when _ts is null then 'unparseable_timestamp'
             when _event_type not in ({event_types}) then 'unknown_event_type'
             when (case {bad_type} end) is not null then 'invalid_type'
             when (case {negative} end) is not null then 'negative_value'
             when try_cast(confidence as double) not between 0 and 1 then 'confidence_out_of_range'
             when _event_type in ({exc_types}) and exception_id is null then 'missing_exception_id'
             when _ts > $future_limit then 'future_timestamp'
        end as _reason,
        case when _problem is not null then _problem
             when (case {missing} end) is not null then (case {missing} end)
             when (case {bad_ident} end) is not null then (case {bad_ident} end)
             when _ts is null then 'event_ts ' || coalesce('''' || left(event_ts, 64) || '''', 'null') || ' is not ISO 8601'
             when _event_type not in ({event_types}) then 'event_type ' || '''' || left(event_type, 64) || ''''
             when (case {bad_type} end) is not null then (case {bad_type} end)
             when (case {negative} end) is not null then (case {negative} end) || ' is negative'
             when try_cast(confidence as double) not between 0 and 1 then 'confidence ' || confidence
             when _event_type in ({exc_types}) and exception_id is null then _event_type || ' without exception_id'
             when _ts > $future_limit then 'event_ts ' || strftime(_ts, '%Y-%m-%dT%H:%M:%SZ') || ' is more than {MAX_FUTURE_SKEW_HOURS} h after landing'
        end as _reason_detail"""


def land_file(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    *,
    register: Register,
    salt: str,
    log_format: str = "telemetry",
    workflow: str | None = None,
    region: str | None = None,
    column_map: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> LandingResult:
    """Land one file in one transaction. See the module docstring for the guarantees.

    ``log_format='minimal'`` reads the seed-001 event log (case_id, event_name, timestamp, actor, ...)
    as runs of ``workflow``; ``column_map`` maps contract names to the file's columns
    (e.g. ``{"case_id": "order_id", "timestamp": "ts"}``); ``region`` fills the region when the file has
    none (default: the workflow's first region in the register). ``now`` (UTC) fixes the landing
    time, for tests; the future-timestamp rule is relative to it.
    """
    path = Path(path)
    if log_format not in LOG_FORMATS:
        raise LandingError(path, f"unknown log format {log_format!r}; expected one of {', '.join(LOG_FORMATS)}")
    fmt = file_format_of(path)
    if not path.is_file():
        raise LandingError(path, "no such file")
    column_map = dict(column_map or {})
    if log_format == "minimal":
        if not workflow:
            raise LandingError(path, "a minimal event log needs --workflow NAME (the workflow its cases are runs of)")
        unknown = sorted(set(column_map) - {*MINIMAL_REQUIRED_FIELDS, "event_id", "region"})
        if unknown:
            raise LandingError(path, f"--map names unknown contract field(s): {', '.join(unknown)}")
        if region is None and (wf := register.workflow(workflow)) is not None:
            region = wf.regions[0]
    elif column_map or workflow:
        raise LandingError(path, "--workflow and --map apply only to --log-format minimal")

    ensure_raw_schema(con)
    con.execute("set TimeZone = 'UTC'")
    digest = sha256_of(path)
    previous = con.execute(
        "select load_id, loaded_at from raw.load_ledger where file_sha256 = ?", [digest]
    ).fetchone()
    if previous:
        return LandingResult(str(path), digest, "already_loaded", previous[0], loaded_at=previous[1])

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    load_id = uuid.uuid4().hex
    redacted = list(register.data_controls.redaction.fields)
    params = {
        "salt": salt,
        "future_limit": now + timedelta(hours=MAX_FUTURE_SKEW_HOURS),
        "now": now,
        "load_id": load_id,
        "source_file": str(path.resolve()),
    }
    in_transaction = False
    try:
        # Reading and parsing fill session-local temp tables (outside the transaction, so their rowids
        # follow file order from 0); only the writes to raw.* form the per-file transaction.
        if fmt == "jsonl":
            keys = _read_jsonl(con, path)
        elif fmt == "csv":
            keys = _read_csv(con, path)
        else:
            keys = _read_parquet(con, path)

        if log_format == "telemetry":
            if fmt != "jsonl":
                absent = [f for f in REQUIRED_FIELDS if f not in keys]
                if absent:
                    raise LandingError(
                        path, f"missing required column(s) {', '.join(absent)}; the telemetry contract needs "
                        f"{', '.join(REQUIRED_FIELDS)} (use --log-format minimal for case_id/event_name/timestamp/actor logs)"
                    )
            projection, source = _telemetry_projection()
        else:
            if keys is None:
                keys = _json_keys(con)
            projection, source, needed = _minimal_projection(
                keys, workflow=workflow, region=region, column_map=column_map
            )
            if fmt != "jsonl":
                absent = [c for c in needed if c not in keys]
                if absent:
                    raise LandingError(
                        path, f"missing column(s) {', '.join(absent)} of the minimal event log "
                        "(map differently named columns with --map FIELD=COLUMN)"
                    )
        con.execute("begin transaction")
        in_transaction = True
        _validate_and_load(con, log_format, projection, source, redacted, params)
        counts = con.execute(
            """select count(*) filter (where _reason is null), count(*) filter (where _reason is not null)
               from _cc_checked"""
        ).fetchone()
        rows_loaded, rows_quarantined = counts
        reasons = dict(
            con.execute(
                "select _reason, count(*) from _cc_checked where _reason is not null group by 1 order by 1"
            ).fetchall()
        )
        con.execute(
            "insert into raw.load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, digest, str(path.resolve()), fmt, log_format, path.stat().st_size,
             rows_loaded + rows_quarantined, rows_loaded, rows_quarantined, now],
        )
        con.execute("commit")
        in_transaction = False
    except LandingError:
        if in_transaction:
            con.execute("rollback")
        raise
    except duckdb.Error as exc:
        if in_transaction:
            con.execute("rollback")
        raise LandingError(path, f"could not be landed: {exc}", transient=True) from None
    except BaseException:
        if in_transaction:
            con.execute("rollback")
        raise
    finally:
        for t in ("_cc_lines", "_cc_rows", "_cc_numbered", "_cc_records", "_cc_json", "_cc_checked"):
            con.execute(f"drop table if exists {t}")
        _drop_rejects(con)
    return LandingResult(
        str(path), digest, "loaded", load_id, rows_loaded + rows_quarantined, rows_loaded, rows_quarantined, reasons, now
    )


def _validate_and_load(con, log_format: str, projection: str, source: str, redacted: list[str], params: dict) -> None:
    ts_parse = (
        f"case when regexp_matches(event_ts, {sql_literal(_ISO_TS_PATTERN)}) "
        "then timezone('UTC', try_cast(replace(trim(event_ts), 'z', 'Z') as timestamptz)) end"
    )
    # One statement from the parsed records to the checked rows (no intermediate table), and the
    # parsed records dropped right after: peak memory is the records' text plus the checked rows.
    con.execute(
        f"""create temp table _cc_checked as
        with projected as (
            select _row, _problem, {projection}
            from {source}
        ),
        typed as (
            select *, lower(event_type) as _event_type, {ts_parse} as _ts from projected
        ),
        checked as (select *, {_checks_sql(log_format)} from typed),
        first_in_file as (
            select *, case when _reason is null
                           then row_number() over (partition by event_id, _reason is null order by _row) end as _nth
            from checked
        ),
        earlier as (
            select distinct e.event_id from raw.workflow_events e
            where e.event_id in (select event_id from first_in_file where _nth = 1)
        )
        select f.* exclude (_reason, _reason_detail, _nth),
               case when f._reason is not null then f._reason
                    when f._nth > 1 then 'duplicate_event_id_in_file'
                    when x.event_id is not null then 'duplicate_event_id' end as _reason,
               case when f._reason is not null then f._reason_detail
                    when f._nth > 1 then 'event_id ' || '''' || left(f.event_id, 64) || ''' repeats an earlier row of this file'
                    when x.event_id is not null then 'event_id ' || '''' || left(f.event_id, 64) || ''' was loaded by an earlier file'
               end as _reason_detail
        from first_in_file f left join earlier x on f._nth = 1 and f.event_id = x.event_id""",
        {k: v for k, v in params.items() if k in ("future_limit",)},
    )
    con.execute("drop table _cc_json")
    attributes = _redact_json_sql("attributes::json", redacted) if redacted else "attributes::json"
    con.execute(
        f"""insert into raw.workflow_events
        select event_id, workflow_id, run_id, _event_type, _ts, region, stage, status, owner,
               round(try_cast(duration_ms as double))::bigint, try_cast(cost_cents as double),
               try_cast(confidence as double), exception_id, exception_class,
               round(try_cast(severity as double))::integer, actor, round(try_cast(attempt as double))::integer,
               error_code, case when attributes is null then null else {attributes} end,
               {sql_literal(log_format)}, source_event_name, $load_id, $source_file, _row, $now
        from _cc_checked where _reason is null
        order by _row""",
        {k: params[k] for k in ("salt", "load_id", "source_file", "now")} if redacted else
        {k: params[k] for k in ("load_id", "source_file", "now")},
    )
    raw_json = _redact_json_sql("r._text::json", redacted) if redacted else "r._text::json"
    raw_text = _mask_text_sql("r._text", redacted) if redacted else "r._text"
    con.execute(
        f"""insert into raw.quarantine
        select $load_id, $source_file, c._row, c._reason, c._reason_detail,
               case when c._problem is null then ({raw_json})::varchar else {raw_text} end,
               left(c.event_id, 512), left(c.workflow_id, 512), $now
        from _cc_checked c join _cc_records r using (_row)
        where c._reason is not null
        order by c._row""",
        {k: params[k] for k in ("salt", "load_id", "source_file", "now")} if redacted else
        {k: params[k] for k in ("load_id", "source_file", "now")},
    )


# --------------------------------------------------------------------------------------------------
# Batches: the landing folder (Dagster) and `command-center ingest FILE|DIR...` share these.
# --------------------------------------------------------------------------------------------------


#: Folder convention of the landing folder: a file at ``.../minimal/<workflow_id>/<file>`` is a minimum
#: viable event log (case_id, event_name, timestamp, actor, ...) of that workflow; anything else is
#: telemetry. Used by the Dagster landing asset and by `command-center ingest FOLDER`.
MINIMAL_LOG_FOLDER = "minimal"


def landing_options_for(path: Path | str) -> dict[str, str]:
    """land_file options implied by where a file sits in the landing folder (see MINIMAL_LOG_FOLDER)."""
    parts = Path(path).parts
    if len(parts) >= 3 and parts[-3] == MINIMAL_LOG_FOLDER:
        return {"log_format": "minimal", "workflow": parts[-2]}
    return {}


def discover_landing_files(folder: Path | str) -> list[Path]:
    """Every landable file under ``folder`` (recursively), in a stable order (sorted by relative path).

    Landable means an extension of ``landing.FILE_FORMATS`` (case-insensitive). Hidden files and
    anything under a hidden folder (``.partial/``, ``.DS_Store``, editor swap files) are skipped, so
    a writer can stage a file under a dot-name and rename it into place when it is complete.
    Order matters: when two files carry the same event_id, the file landed first keeps it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in FILE_FORMATS:
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


@dataclass
class LandingBatch:
    """What landing a set of files did: one result per landed or skipped file, one error per refused
    file, and the files skipped because they were refused by an earlier batch."""

    results: list[LandingResult] = field(default_factory=list)
    refused: list[LandingError] = field(default_factory=list)
    refused_earlier: list[LandingError] = field(default_factory=list)

    @property
    def landed(self) -> list[LandingResult]:
        return [r for r in self.results if r.status == "loaded"]

    @property
    def skipped(self) -> list[LandingResult]:
        return [r for r in self.results if r.status == "already_loaded"]

    @property
    def rows_read(self) -> int:
        return sum(r.rows_read for r in self.landed)

    @property
    def rows_loaded(self) -> int:
        return sum(r.rows_loaded for r in self.landed)

    @property
    def rows_quarantined(self) -> int:
        return sum(r.rows_quarantined for r in self.landed)

    @property
    def quarantine_reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for r in self.landed:
            total.update(r.quarantine_reasons)
        return dict(sorted(total.items()))


def _refusal_on_record(con: duckdb.DuckDBPyConnection, digest: str) -> tuple[str, datetime] | None:
    return con.execute(
        "select problem, refused_at from raw.refused_files where file_sha256 = ?", [digest]
    ).fetchone()


def _record_refusal(con: duckdb.DuckDBPyConnection, path: Path, digest: str, problem: str) -> None:
    con.execute(
        "insert or replace into raw.refused_files values (?, ?, ?, ?)",
        [digest, str(Path(path).resolve()), problem, datetime.now(UTC).replace(tzinfo=None)],
    )


def land_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path | str],
    *,
    register: Register,
    salt: str,
    log=None,
    remember_refusals: bool = False,
    options_for: Callable[[Path], dict] | None = None,
    **land_file_kwargs,
) -> LandingBatch:
    """Land each file with ``land_file`` (its own transaction); a refused file does not stop the rest.

    ``LandingError`` is collected in ``batch.refused``; any other error (the warehouse is busy, the
    disk is full) propagates, since the next file would fail the same way. ``log`` (a logger-like
    object with ``info``/``warning``) reports each file as it goes.

    ``remember_refusals`` (the landing folder): a file refused for its content is recorded in
    raw.refused_files, and the same bytes are skipped by later batches (``batch.refused_earlier``)
    instead of failing every scheduled run until someone removes the file. An explicit
    ``command-center ingest`` does not use this: it always tries, and reports.

    ``options_for(path)`` adds per-file land_file options (e.g. ``landing_options_for``, the
    landing folder's convention for minimal logs) over ``land_file_kwargs``.
    """
    if remember_refusals:
        ensure_raw_schema(con)
    return land_batch(
        paths,
        land_one=lambda path, options: land_file(con, path, register=register, salt=salt, **options),
        refusal_on_record=lambda digest: _refusal_on_record(con, digest),
        record_refusal=lambda path, digest, problem: _record_refusal(con, path, digest, problem),
        log=log,
        remember_refusals=remember_refusals,
        options_for=options_for,
        land_file_kwargs=land_file_kwargs,
    )


def land_batch(
    paths: Iterable[Path | str],
    *,
    land_one: Callable[[Path | str, dict], LandingResult],
    refusal_on_record: Callable[[str], tuple[str, datetime] | None],
    record_refusal: Callable[[Path, str, str], None],
    log=None,
    remember_refusals: bool = False,
    options_for: Callable[[Path], dict] | None = None,
    land_file_kwargs: dict | None = None,
) -> LandingBatch:
    """The batch loop of ``land_paths``, whatever the sink (DuckDB here, Snowflake in
    orchestration.lib.snowflake_landing): skip files refused earlier, land each file with
    ``land_one(path, options)``, collect refusals (and remember them), log as it goes."""
    batch = LandingBatch()
    for path in paths:
        digest = sha256_of(Path(path)) if remember_refusals and Path(path).is_file() else None
        if digest is not None and (earlier := refusal_on_record(digest)) is not None:
            problem, at = earlier
            err = LandingError(path, f"refused earlier ({at:%Y-%m-%d %H:%M} UTC), skipped: {problem}")
            batch.refused_earlier.append(err)
            if log is not None:
                log.warning(str(err))
            continue
        try:
            options = {**(land_file_kwargs or {}), **(options_for(Path(path)) if options_for else {})}
            result = land_one(path, options)
        except LandingError as exc:
            batch.refused.append(exc)
            if digest is not None and not exc.transient:
                record_refusal(Path(path), digest, exc.problem)
            if log is not None:
                log.warning(f"refused: {exc}")
            continue
        batch.results.append(result)
        if log is not None:
            log.info(result.summary)
    return batch
