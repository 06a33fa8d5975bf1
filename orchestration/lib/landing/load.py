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

import getpass
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.audit.ledger import seal_loads
from orchestration.lib.contract import (
    LOADED_ROW_FINGERPRINT_LANDING_SQL,
    MAX_FUTURE_SKEW_HOURS,
    MINIMAL_FIELDS,
    REQUIRED_FIELDS,
)
from orchestration.lib.landing import validation
from orchestration.lib.landing.common import (
    LOG_FORMATS,
    FileState,
    LandingError,
    LandingResult,
    file_format_of,
    scan_file,
)
from orchestration.lib.landing.projection import _minimal_projection, _telemetry_projection
from orchestration.lib.landing.readers import (
    _drop_rejects,
    _first_line,
    _json_keys,
    _parquet_problem,
    _read_csv,
    _read_jsonl,
    _read_parquet,
    jsonl_source,
)
from orchestration.lib.landing.timestamps import TimestampOptionError, check_timestamp_options, timestamp_params
from orchestration.lib.landing.typed_parquet import describe_parquet, is_parquet_read_error
from orchestration.lib.landing.xes import XES_COLUMN_MAP, read_xes
from orchestration.lib.register import Register
from orchestration.lib.residency import blocked_regions
from orchestration.lib.warehouse import ensure_raw_schema

#: DuckDB errors that say nothing about the file's content: the same file may land on a later try.
#: Any other DuckDB error while landing a file is about what the file holds, so it is a refusal
#: (remembered by the landing folder), never retried forever.
_TRANSIENT_DUCKDB_ERRORS = (
    duckdb.IOException,
    duckdb.OutOfMemoryException,
    duckdb.TransactionException,
    duckdb.InterruptException,
    duckdb.ConnectionException,
)

CHANGED_WHILE_LANDING = "changed while landing (is it still being written?); nothing was kept, retry when it is complete"


def _landed_by() -> dict[str, object]:
    """Who lands: the OS user, the host and the process id (the ledger's landed_by_* columns)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        user = f"uid:{os.getuid()}" if hasattr(os, "getuid") else None
    return {"landed_by_user": user, "landed_on_host": socket.gethostname(), "landed_by_pid": os.getpid()}


def expiry_bounds(register: Register, now: datetime) -> dict[str, tuple[datetime, str]]:
    """The ``expired`` rule's bounds: per region of data_controls.residency its retention, for any
    other region ("" key) telemetry.retention_days; telemetry.earliest_event_date raises each bound.
    Values: (earliest event_ts kept, UTC naive; a description for the quarantine detail)."""
    earliest = register.telemetry.earliest_event_date
    earliest_dt = datetime(earliest.year, earliest.month, earliest.day) if earliest else None

    def bound(days: int, what: str) -> tuple[datetime, str]:
        by_retention = now - timedelta(days=days)
        if earliest_dt is not None and earliest_dt > by_retention:
            return earliest_dt, "the register's telemetry.earliest_event_date"
        return by_retention, f"{what} ({days} days before landing)"

    bounds = {
        region: bound(r.retention_days, f"the retention of region {region}")
        for region, r in register.data_controls.residency.items()
    }
    bounds[""] = bound(register.telemetry.retention_days, "the register's telemetry.retention_days")
    return bounds


def landing_params(
    register: Register, *, salt: str, now: datetime, load_id: str, source_file: str,
    timestamp_format: str | None = None, timezone: str | None = None,
) -> dict:
    """The parameters of validation._validate_and_load (land_file, and small_files for groups)."""
    return {
        "salt": salt,
        "malformed_records": register.data_controls.redaction.malformed_records,
        "future_limit": now + timedelta(hours=MAX_FUTURE_SKEW_HOURS),
        "now": now,
        "load_id": load_id,
        "source_file": source_file,
        "expired_before": expiry_bounds(register, now),
        "residency_blocked": blocked_regions(register),  # orchestration/lib/residency.py
        **timestamp_params(timestamp_format, timezone),
    }


def land_file(  # noqa: C901 -- 27 branches; being split into one function per step (issue 17 item 7, landing)
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
    landing_run_id: str | None = None,
    timestamp_format: str | None = None,
    timezone: str | None = None,
) -> LandingResult:
    """Land one file in one transaction. See the module docstring for the guarantees.

    ``log_format='minimal'`` reads the seed-001 event log (case_id, event_name, timestamp, actor, ...)
    as runs of ``workflow``; ``column_map`` maps contract names to the file's columns
    (e.g. ``{"case_id": "order_id", "timestamp": "ts"}``); ``region`` fills the region when the file has
    none (default: the workflow's first region in the register). ``now`` (UTC) fixes the landing
    time, for tests; the future-timestamp and expired rules are relative to it. ``landing_run_id``
    (the Dagster run) is recorded in the ledger beside the user, host and process that landed.
    ``timestamp_format`` (strptime syntax) and ``timezone`` (IANA name, for values without an
    offset) read non-ISO and local-time timestamps (orchestration/lib/landing/timestamps.py).

    The file is hashed before it is read and its state (size, mtime, ctime) checked after: a file that
    changed meanwhile is refused as transient (``CHANGED_WHILE_LANDING``), so the ledger's sha256 is
    always that of the bytes loaded.
    """
    path = Path(path)
    if log_format == "governance":  # the orchestrator's action log: its own table and checks
        from orchestration.lib.landing.governance_log import land_governance_file

        if column_map or workflow or region:
            raise LandingError(path, "--workflow, --region and --map do not apply to --log-format governance")
        return land_governance_file(con, path, register=register, salt=salt, now=now, landing_run_id=landing_run_id,
                                    timestamp_format=timestamp_format, timezone=timezone)
    if log_format not in LOG_FORMATS:
        raise LandingError(path, f"unknown log format {log_format!r}; expected one of {', '.join(LOG_FORMATS)}")
    fmt = file_format_of(path)
    if not path.is_file():
        raise LandingError(path, "no such file")
    column_map = dict(column_map or {})
    if (fmt == "xes") != (log_format == "xes"):
        raise LandingError(path, "an XES file lands with --log-format xes --workflow NAME" if fmt == "xes"
                           else "--log-format xes reads .xes or .xes.gz files")
    if log_format in ("minimal", "xes"):
        if not workflow:
            raise LandingError(path, "a minimal event log needs --workflow NAME (the workflow its cases are runs of)")
        unknown = sorted(set(column_map) - {*MINIMAL_FIELDS, "event_id", "region"})
        if unknown:
            raise LandingError(path, f"--map names unknown contract field(s): {', '.join(unknown)}")
        if region is None and (wf := register.workflow(workflow)) is not None:
            region = wf.regions[0]
    elif column_map or workflow:
        raise LandingError(path, "--workflow and --map apply only to --log-format minimal")
    try:
        check_timestamp_options(timestamp_format, timezone)
    except TimestampOptionError as exc:
        raise LandingError(path, str(exc)) from None

    ensure_raw_schema(con)
    con.execute("set TimeZone = 'UTC'")
    scan = scan_file(path)
    if scan.changed:
        raise LandingError(path, CHANGED_WHILE_LANDING, transient=True)
    digest = scan.sha256
    previous = con.execute(
        "select load_id, loaded_at from raw.load_ledger where file_sha256 = ?", [digest]
    ).fetchone()
    if previous:
        return LandingResult(str(path), digest, "already_loaded", previous[0], loaded_at=previous[1])

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    load_id = uuid.uuid4().hex
    redacted = list(register.data_controls.redaction.fields)
    params = landing_params(register, salt=salt, now=now, load_id=load_id, source_file=str(path.resolve()),
                            timestamp_format=timestamp_format, timezone=timezone)
    in_transaction = False
    typed = None
    try:
        # Reading and parsing fill session-local temp tables (outside the transaction, so their rowids
        # follow file order from 0); only the writes to raw.* form the per-file transaction.
        if fmt == "jsonl":
            with jsonl_source(path, carriage_return=scan.carriage_return) as source:
                keys = _read_jsonl(con, path, source=source)
        elif fmt == "csv":
            keys = _read_csv(con, path, carriage_return=scan.carriage_return)
        elif fmt == "xes":
            keys = read_xes(con, path)
            # an XES event is a minimal-log record whose columns are its XES keys (landing/xes.py)
            column_map = {**XES_COLUMN_MAP, **column_map}
        elif log_format == "telemetry" and (typed := describe_parquet(con, path, scan.state)) is not None:
            keys = typed.names  # the typed path: columns straight to the contract (typed_parquet.py)
        else:
            keys = _read_parquet(con, path)
        if FileState.of(path) != scan.state:
            raise LandingError(path, CHANGED_WHILE_LANDING, transient=True)

        if log_format == "telemetry":
            if keys is not None:
                absent = [f for f in REQUIRED_FIELDS if f not in keys]
                if absent:
                    raise LandingError(
                        path, f"missing required column(s) {', '.join(absent)}; the telemetry contract needs "
                        f"{', '.join(REQUIRED_FIELDS)} (use --log-format minimal for case_id/event_name/timestamp/actor logs)"
                    )
            projection, source = typed.projection() if typed is not None else _telemetry_projection()
        else:
            if keys is None:
                keys = _json_keys(con)
            projection, source, needed = _minimal_projection(
                keys, workflow=workflow, region=region, column_map=column_map,
                timestamp_format=timestamp_format, timezone=timezone,
                redact_actor="actor" in {f.lower() for f in register.data_controls.redaction.fields},
            )
            if fmt not in ("jsonl", "xes") and keys:
                absent = [c for c in needed if c not in keys]
                if absent:
                    raise LandingError(
                        path, f"missing column(s) {', '.join(absent)} of the minimal event log "
                        "(map differently named columns with --map FIELD=COLUMN)"
                    )
        con.execute("begin transaction")
        in_transaction = True
        # (typed path: _cc_checked holds only the failing rows; the counts are the inserts')
        rows_loaded, rows_quarantined = validation._validate_and_load(
            con, log_format, projection, source, redacted, params,
            records=typed and typed.records, in_file_order=typed is not None,
            untrimmed=typed.projection(trimmed=False)[0] if typed is not None else None)
        by_reason = con.execute(
            "select _reason, count(*), arg_min(_reason_detail, _row) from _cc_checked where _reason is not null "
            "group by 1 order by 1"
        ).fetchall()
        reasons = {reason: n for reason, n, _ in by_reason}
        samples = {reason: detail for reason, _, detail in by_reason if detail is not None}
        # The fingerprint of exactly the rows stored (dbt's assert_load_ledger_matches_loaded_events
        # recomputes it): rewriting, deleting or adding an event of this load changes it.
        first_event_ts, fingerprint = con.execute(
            f"select min(event_ts), sum({LOADED_ROW_FINGERPRINT_LANDING_SQL}) from raw.workflow_events where load_id = ?",
            [load_id],
        ).fetchone()
        ledger = {
            "load_id": load_id, "file_sha256": digest, "file_path": str(path.resolve()), "file_format": fmt,
            "log_format": log_format, "file_bytes": scan.state.size, "rows_read": rows_loaded + rows_quarantined,
            "rows_loaded": rows_loaded, "rows_quarantined": rows_quarantined, "loaded_at": now,
            **_landed_by(), "landing_run_id": landing_run_id,
            "first_event_ts": first_event_ts, "loaded_fingerprint": fingerprint or 0,
        }
        con.execute(
            f"insert into raw.load_ledger ({', '.join(ledger)}) values ({', '.join('?' * len(ledger))})",
            list(ledger.values()),
        )
        seal_loads(con, [load_id])  # the ledger's hash chain, in this transaction (docs/tamper-evidence.md)
        con.execute("commit")
        in_transaction = False
    except LandingError:
        if in_transaction:
            con.execute("rollback")
        raise
    except duckdb.Error as exc:
        if in_transaction:
            con.execute("rollback")
        if typed is not None and is_parquet_read_error(exc):  # the typed path reads the file while checking
            raise LandingError(path, _parquet_problem(exc)) from None
        transient = isinstance(exc, _TRANSIENT_DUCKDB_ERRORS)
        raise LandingError(
            path, f"could not be landed ({'a warehouse error; retry' if transient else 'its content'}): {_first_line(exc)}",
            transient=transient,
        ) from None
    except BaseException:
        if in_transaction:
            con.execute("rollback")
        raise
    finally:
        for t in ("_cc_lines", "_cc_rows", "_cc_numbered", "_cc_records", "_cc_json", "_cc_checked", "_cc_dup", "_cc_rephash"):
            con.execute(f"drop table if exists {t}")
        _drop_rejects(con)
    return LandingResult(
        str(path), digest, "loaded", load_id, rows_loaded + rows_quarantined, rows_loaded, rows_quarantined, reasons, now,
        quarantine_samples=samples,
    )
