"""Landing on Snowflake: the same validation, quarantine and redaction, shipped through a stage.

Nothing here decides whether a row is valid. Every file goes through ``landing.land_file`` (the
one place that validates, quarantines and redacts) inside a throw-away in-memory DuckDB; the rows
it loaded and quarantined are then written to Parquet by DuckDB, PUT to a Snowflake internal stage
and bulk-loaded with COPY INTO (files of at most ``batch_rows`` rows; never row-by-row inserts),
and moved into the raw tables in ONE Snowflake transaction per file, together with its ledger row.

The guarantees of the DuckDB landing, on Snowflake:

* Exactly once per file content: the ledger row is claimed first in the transaction with a MERGE on
  ``file_sha256`` (MERGE statements on one table are serialised by Snowflake, so a second lander of
  the same bytes waits, then sees the committed row and rolls back: ``already_loaded``).
* Duplicate event_ids across files: an event_id that Snowflake already holds is quarantined as
  ``duplicate_event_id`` exactly as on DuckDB. The file is first landed locally against an empty
  warehouse; the event_ids it would load are checked against raw.workflow_events in Snowflake, and
  if any are already there the file is landed locally again with those ids present (so land_file
  itself classifies the rows, with the same reason detail and raw_record). The check is repeated
  inside the transaction; if another lander slipped rows in meanwhile, the transaction is rolled
  back and the file retried.
* Conservation: rows_read = rows_loaded + rows_quarantined is checked against the rows the INSERTs
  report before COMMIT (Snowflake has no CHECK constraint).
* A refused file (LandingError) keeps nothing; raw.refused_files remembers it for the landing folder.

Connection parameters come from the same environment variables as the dbt profile's ``snowflake``
target (README "Snowflake"); ``COMMAND_CENTER_DBT_TARGET=snowflake`` selects this sink for
``command-center ingest`` and the Dagster landing asset (``landing_sink``).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import landing
from orchestration.lib.contract import (
    GOVERNANCE_ACTIONS_DDL,
    LEDGER_DDL,
    LEDGER_MIGRATIONS,
    QUARANTINE_DDL,
    RAW_EVENTS_DDL,
    RAW_SCHEMA,
    REFUSED_FILES_DDL,
)
from orchestration.lib.landing import LandingBatch, LandingError, LandingResult
from orchestration.lib.register import GOVERNANCE_TABLES, Register, register_rows
from orchestration.lib.warehouse import ensure_raw_schema

#: The dbt target name that means "the warehouse is Snowflake".
SNOWFLAKE_TARGET = "snowflake"
#: Internal stage (in the raw schema) the landing PUTs its Parquet files to; one folder per load.
STAGE = f"{RAW_SCHEMA}.command_center_landing"
#: Rows per Parquet file shipped to the stage (one COPY INTO loads all files of a load in parallel).
DEFAULT_BATCH_ROWS = 500_000
#: Placeholder load_id of the stub rows that stand for events Snowflake already holds (never shipped).
_EXISTING = "_already_in_snowflake"
_MAX_ATTEMPTS = 3

#: Environment variables of the Snowflake connection (the same ones profiles/profiles.yml reads).
ENV_VARS: dict[str, str] = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "authenticator": "SNOWFLAKE_AUTHENTICATOR",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_PATH",
    "private_key_file_pwd": "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
    "token": "SNOWFLAKE_TOKEN",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "host": "SNOWFLAKE_HOST",
    "port": "SNOWFLAKE_PORT",
    "protocol": "SNOWFLAKE_PROTOCOL",
}
_REQUIRED = ("account", "user", "warehouse", "database")


def uses_snowflake(target: str | None = None) -> bool:
    """Whether landing goes to Snowflake: the dbt target (COMMAND_CENTER_DBT_TARGET) is 'snowflake'.

    The one switch shared by ``command-center ingest`` and the Dagster landing asset."""
    if target is None:
        target = os.environ.get("COMMAND_CENTER_DBT_TARGET", "duckdb")
    return target.strip().lower() == SNOWFLAKE_TARGET


def connection_args(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """snowflake.connector.connect() keyword arguments from the environment (empty values are unset)."""
    env = os.environ if env is None else env
    args: dict[str, Any] = {k: env[v] for k, v in ENV_VARS.items() if env.get(v)}
    missing = [ENV_VARS[k] for k in _REQUIRED if k not in args]
    if missing:
        raise LandingError("snowflake", f"the Snowflake connection needs {', '.join(missing)} (README: Snowflake)")
    if "port" in args:
        args["port"] = int(args["port"])
    if "private_key_file" in args:
        args.pop("password", None)
        args.setdefault("authenticator", "SNOWFLAKE_JWT")
    if args.get("authenticator", "").lower() == "snowflake":
        args.pop("authenticator")  # the connector's default (user + password)
    args["schema"] = RAW_SCHEMA
    return args


def connect(env: Mapping[str, str] | None = None, **overrides):
    """A Snowflake connection for landing: qmark binding (server-side), UTC session, autocommit on
    (transactions are explicit BEGIN ... COMMIT). ``overrides`` go to snowflake.connector.connect."""
    import snowflake.connector

    return snowflake.connector.connect(
        **{**connection_args(env), **overrides},
        paramstyle="qmark",
        session_parameters={"TIMEZONE": "UTC", "QUERY_TAG": "command_center_landing"},
        application="command_center",
    )


# --------------------------------------------------------------------------------------------------
# DDL: the contract's DuckDB tables, spelled for Snowflake (one column list: orchestration.lib.contract)
# --------------------------------------------------------------------------------------------------


def snowflake_ddl(duckdb_ddl: str, *, json_type: str = "variant", table: str | None = None, kind: str = "") -> str:
    """A contract DDL for Snowflake: JSON becomes VARIANT (or ``json_type``), TIMESTAMP becomes
    TIMESTAMP_NTZ (UTC without offset, whatever TIMESTAMP_TYPE_MAPPING says), CHECK constraints (which
    Snowflake lacks) are dropped - the landing checks conservation itself. ``table`` renames the
    table (plain ``create [kind] table``, for the per-load transient tables)."""
    lines = [ln for ln in duckdb_ddl.strip().splitlines() if not ln.strip().startswith("check (")]
    sql = "\n".join(lines)
    sql = re.sub(r",(\s*(--[^\n]*)?\s*)\)\s*$", r"\1)", sql)  # the comma the dropped check left behind
    sql = re.sub(r"(\s)json(\s*,|\s*--|\s*\n)", rf"\1{json_type}\2", sql)
    sql = re.sub(r"(\s)timestamp(\s|,)", r"\1timestamp_ntz\2", sql)
    if table is not None:
        sql = re.sub(r"create table if not exists \S+", f"create {kind + ' ' if kind else ''}table {table}", sql)
    return sql


def columns_of(duckdb_ddl: str) -> list[str]:
    """The column names of a contract DDL, in order."""
    body = duckdb_ddl.split("(", 1)[1]
    names = []
    for line in body.splitlines():
        m = re.match(r"\s*([a-z_][a-z0-9_]*)\s+(varchar|bigint|integer|double|timestamp|json|boolean)\b", line)
        if m:
            names.append(m.group(1))
    return names


#: One-row table the landing transaction UPDATEs first: Snowflake serialises UPDATEs of a table until
#: COMMIT, which makes it a mutex between concurrent landers (INSERTs alone would not wait).
LOCK_TABLE = f"{RAW_SCHEMA}.landing_lock"

RAW_DDL_SNOWFLAKE: tuple[str, ...] = (
    f"create schema if not exists {RAW_SCHEMA}",
    snowflake_ddl(RAW_EVENTS_DDL),
    snowflake_ddl(QUARANTINE_DDL),
    snowflake_ddl(LEDGER_DDL),
    # the ledger columns added later (who landed, fingerprint): existing warehouses get them, null
    *(re.sub(r"\btimestamp$", "timestamp_ntz", m) for m in LEDGER_MIGRATIONS),
    snowflake_ddl(REFUSED_FILES_DDL),
    # the governance log's table (landed on DuckDB only so far): the staging model reads it on both
    snowflake_ddl(GOVERNANCE_ACTIONS_DDL).replace("timestamptz", "timestamp_tz").replace("varchar[]", "array"),
    f"create table if not exists {LOCK_TABLE} (name varchar not null, locked_at timestamp_ntz, locked_by varchar)",
    f"insert into {LOCK_TABLE} (name) select 'landing' where not exists (select 1 from {LOCK_TABLE})",
    f"create stage if not exists {STAGE} comment = 'command_center landing: Parquet batches, one folder per load'",
)

def _snowflake_types(columns: str) -> str:
    """A governance column list for Snowflake (timestamps without offset are TIMESTAMP_NTZ)."""
    return re.sub(r"\btimestamp\b", "timestamp_ntz", columns)


_EVENT_COLUMNS = columns_of(RAW_EVENTS_DDL)
_QUARANTINE_COLUMNS = columns_of(QUARANTINE_DDL)
_LEDGER_COLUMNS = columns_of(LEDGER_DDL)


# --------------------------------------------------------------------------------------------------
# The sink
# --------------------------------------------------------------------------------------------------


class _Cursor:
    """Just enough of a DuckDB connection (execute / executemany / fetch) over a Snowflake cursor, so
    ``register.land_register`` lands the register on Snowflake unchanged."""

    def __init__(self, con):
        self._cur = con.cursor()

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> _Cursor:
        self._cur.execute(sql, list(params) if params is not None else None)
        return self

    def executemany(self, sql: str, rows: list[tuple]) -> _Cursor:
        self._cur.executemany(sql, [list(r) for r in rows])
        return self

    def fetchone(self):
        return self._cur.fetchone()

    def fetchall(self):
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount or 0


@dataclass
class _Local:
    """A file landed into a throw-away DuckDB: its result and the Parquet files of its rows."""

    result: LandingResult
    con: duckdb.DuckDBPyConnection


class SnowflakeLanding:
    """Lands files and the register into Snowflake. ``con``: a snowflake.connector connection (see
    ``connect``), left open for the caller to close."""

    def __init__(self, con, *, batch_rows: int = DEFAULT_BATCH_ROWS):
        self.con = con
        self.batch_rows = batch_rows
        self._schema_ready = False
        self._landed: duckdb.DuckDBPyConnection | None = None

    @property
    def landed_events(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB whose raw.workflow_events holds the rows this sink landed (only those),
        exactly as they went to Snowflake: the per-load data checks (great-expectations suite, which
        validates ``where load_id = ?``) run on it as they run on the DuckDB warehouse."""
        if self._landed is None:
            self._landed = duckdb.connect(":memory:")
            self._landed.execute("set TimeZone = 'UTC'")
            ensure_raw_schema(self._landed)
        return self._landed

    def _keep_for_checks(self, local: _Local) -> None:
        with warnings.catch_warnings():  # DuckDB notes the Arrow copy; these are one file's rows
            warnings.simplefilter("ignore", UserWarning)
            rows = local.con.execute(
                "select * from raw.workflow_events where load_id = ?", [local.result.load_id]
            ).to_arrow_table()
        self.landed_events.register("_cc_landed_batch", rows)
        self.landed_events.execute("insert into raw.workflow_events select * from _cc_landed_batch")
        self.landed_events.unregister("_cc_landed_batch")

    # -- plumbing ----------------------------------------------------------------------------------

    def _sql(self, sql: str, params: Iterable[Any] | None = None) -> _Cursor:
        return _Cursor(self.con).execute(sql, params)

    def ensure_raw_schema(self) -> None:
        if not self._schema_ready:
            for ddl in RAW_DDL_SNOWFLAKE:
                self._sql(ddl)
            self._schema_ready = True

    def totals(self) -> dict[str, int]:
        self.ensure_raw_schema()
        events, quarantined, files = self._sql(
            f"""select (select count(*) from {RAW_SCHEMA}.workflow_events),
                      (select count(*) from {RAW_SCHEMA}.quarantine),
                      (select count(*) from {RAW_SCHEMA}.load_ledger)"""
        ).fetchone()
        return {"events": events, "quarantined": quarantined, "ledger_files": files}

    def land_register(self, register: Register, *, source_path: str, sha256: str) -> dict[str, int]:
        """The governance.* tables from the same rows and column lists as ``register.land_register``
        (``register_rows``, ``GOVERNANCE_TABLES``). Snowflake commits DDL implicitly, so each table is
        replaced on its own (create or replace, then one array-bound insert) rather than all in one
        transaction as on DuckDB; register_versions is appended to last, so it names a register only
        once every table holds it."""
        rows = register_rows(register)
        counts: dict[str, int] = {}
        self._sql("create schema if not exists governance")
        for table, columns in GOVERNANCE_TABLES.items():
            if table == "register_versions":
                continue
            self._sql(f"create or replace table governance.{table} ({_snowflake_types(columns)})")
            data = rows[table]
            if data:
                placeholders = ", ".join("?" for _ in data[0])
                _Cursor(self.con).executemany(f"insert into governance.{table} values ({placeholders})", data)
            counts[table] = len(data)
        self._sql(
            f"create table if not exists governance.register_versions "
            f"({_snowflake_types(GOVERNANCE_TABLES['register_versions'])})"
        )
        self._sql(
            "insert into governance.register_versions values (?, ?, ?, ?)",
            [sha256, register.version, source_path, datetime.now(UTC).replace(tzinfo=None)],
        )
        return counts

    # -- one file ----------------------------------------------------------------------------------

    def _previous(self, digest: str) -> tuple[str, datetime] | None:
        return self._sql(
            f"select load_id, loaded_at from {RAW_SCHEMA}.load_ledger where file_sha256 = ?", [digest]
        ).fetchone()

    @staticmethod
    def _land_locally(path: Path, existing_ids: list[str], *, now: datetime, **land_file_kwargs) -> _Local:
        """land_file into a fresh in-memory DuckDB that holds ``existing_ids`` as earlier events."""
        local = duckdb.connect(":memory:")
        local.execute("set TimeZone = 'UTC'")
        ensure_raw_schema(local)
        if existing_ids:
            local.execute("create temp table _cc_existing (event_id varchar)")
            local.executemany("insert into _cc_existing values (?)", [(i,) for i in existing_ids])
            local.execute(
                f"""insert into raw.workflow_events (event_id, workflow_id, run_id, event_type, event_ts, region,
                        log_format, load_id, source_file, source_row_number, loaded_at)
                    select event_id, '', '', '', timestamp '1970-01-01', '', '', '{_EXISTING}', '', 0,
                           timestamp '1970-01-01'
                    from _cc_existing"""
            )
            local.execute("drop table _cc_existing")
        try:
            result = landing.land_file(local, path, now=now, **land_file_kwargs)
        except BaseException:
            local.close()
            raise
        return _Local(result, local)

    def _ship(self, local: _Local, workdir: Path, prefix: str) -> dict[str, str]:
        """Write the load's rows as Parquet batches, PUT them to the stage and COPY INTO per-load
        transient tables; returns {kind: transient table}."""
        load_id = local.result.load_id
        tables = {}
        for kind, ddl, select in (
            ("events", RAW_EVENTS_DDL,
             f"select * from raw.workflow_events where load_id = '{load_id}' order by source_row_number"),
            ("quarantine", QUARANTINE_DDL,
             f"select * from raw.quarantine where load_id = '{load_id}' order by source_row_number"),
        ):
            table = f"{RAW_SCHEMA}._cc_load_{prefix}_{kind}"
            self._sql(f"drop table if exists {table}")
            self._sql(snowflake_ddl(ddl, json_type="varchar", table=table, kind="transient"))
            tables[kind] = table
            n = local.con.execute(f"select count(*) from ({select})").fetchone()[0]
            if n == 0:
                continue
            folder = workdir / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i, offset in enumerate(range(0, n, self.batch_rows)):
                target = folder / f"{kind}_{i:05d}.parquet"
                local.con.execute(
                    f"copy ({select} limit {self.batch_rows} offset {offset}) to '{target}' "
                    "(format parquet, compression zstd)"
                )
                self._sql(f"put 'file://{target.as_posix()}' @{STAGE}/{prefix}/{kind}/ auto_compress = false overwrite = true")
            self._sql(
                f"copy into {table} from @{STAGE}/{prefix}/{kind}/ file_format = (type = parquet) "
                "match_by_column_name = case_insensitive on_error = abort_statement purge = true"
            )
        return tables

    def _existing_ids(self, events_table: str) -> list[str]:
        return [
            r[0] for r in self._sql(
                f"""select distinct s.event_id from {events_table} s
                    where exists (select 1 from {RAW_SCHEMA}.workflow_events e where e.event_id = s.event_id)"""
            ).fetchall()
        ]

    def land_file(
        self,
        path: Path | str,
        *,
        register: Register,
        salt: str,
        log_format: str = "telemetry",
        now: datetime | None = None,
        **land_file_kwargs,
    ) -> LandingResult:
        """Land one file (see the module docstring); same arguments and result as ``landing.land_file``."""
        path = Path(path)
        _check_landable(path, log_format)
        if not path.is_file():
            raise LandingError(path, "no such file")
        self.ensure_raw_schema()
        digest = landing.sha256_of(path)
        previous = self._previous(digest)
        if previous:
            return LandingResult(str(path), digest, "already_loaded", previous[0], loaded_at=previous[1])
        now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        kwargs = {"register": register, "salt": salt, "log_format": log_format, **land_file_kwargs}
        existing: list[str] = []
        for _attempt in range(_MAX_ATTEMPTS):
            local = self._land_locally(path, existing, now=now, **kwargs)
            prefix = uuid.uuid4().hex[:16]
            workdir = Path(tempfile.mkdtemp(prefix="cc_snowflake_landing_"))
            tables: dict[str, str] = {}
            try:
                tables = self._ship(local, workdir, prefix)
                found = self._existing_ids(tables["events"])
                if found and set(found) - set(existing):
                    # events Snowflake already holds: land again locally with them present, so
                    # land_file quarantines them as duplicate_event_id (its wording, its raw_record)
                    existing = sorted(set(existing) | set(found))
                    continue
                outcome = self._commit(local, tables)
                if outcome == "retry":
                    existing = sorted(set(existing) | set(self._existing_ids(tables["events"])))
                    continue
                if outcome == "already_loaded":
                    previous = self._previous(digest)
                    return LandingResult(str(path), digest, "already_loaded", previous[0], loaded_at=previous[1])
                self._keep_for_checks(local)
                return local.result
            except LandingError:
                raise
            except Exception as exc:
                if _is_snowflake_error(exc):
                    raise LandingError(path, f"could not be landed on Snowflake: {exc}", transient=True) from None
                raise
            finally:
                local.con.close()
                shutil.rmtree(workdir, ignore_errors=True)
                for table in tables.values():
                    try:
                        self._sql(f"drop table if exists {table}")
                    except Exception:  # noqa: BLE001 - cleanup must not hide the real outcome
                        pass
        raise LandingError(path, f"event_ids kept changing under the landing after {_MAX_ATTEMPTS} attempts",
                           transient=True)

    def _commit(self, local: _Local, tables: dict[str, str]) -> str:
        """One transaction: claim the ledger row (the one the local landing wrote), re-check duplicates,
        insert events and quarantine, check conservation. Returns 'loaded', 'already_loaded' or 'retry'."""
        result = local.result
        ledger_values = list(
            local.con.execute(
                f"select {', '.join(_LEDGER_COLUMNS)} from raw.load_ledger where load_id = ?", [result.load_id]
            ).fetchone()
        )
        self._sql("begin transaction")
        try:
            # serialise landers: an UPDATE holds a lock on its table until COMMIT (INSERTs do not), so a
            # second lander waits here and then sees the committed ledger row
            self._sql(f"update {LOCK_TABLE} set locked_at = ?, locked_by = ?",
                      [datetime.now(UTC).replace(tzinfo=None), result.load_id])
            claimed = self._sql(
                f"""insert into {RAW_SCHEMA}.load_ledger ({', '.join(_LEDGER_COLUMNS)})
                    select {', '.join('?' for _ in _LEDGER_COLUMNS)}
                    where not exists (select 1 from {RAW_SCHEMA}.load_ledger where file_sha256 = ?)""",
                [*ledger_values, result.file_sha256],
            ).rowcount
            if claimed != 1:
                self._sql("rollback")
                return "already_loaded"
            if self._existing_ids(tables["events"]):
                self._sql("rollback")
                return "retry"
            cols = ", ".join(_EVENT_COLUMNS)
            select = ", ".join(
                "case when attributes is null then null else parse_json(attributes) end" if c == "attributes" else c
                for c in _EVENT_COLUMNS
            )
            loaded = self._sql(
                f"insert into {RAW_SCHEMA}.workflow_events ({cols}) select {select} from {tables['events']}"
            ).rowcount
            qcols = ", ".join(_QUARANTINE_COLUMNS)
            quarantined = self._sql(
                f"insert into {RAW_SCHEMA}.quarantine ({qcols}) select {qcols} from {tables['quarantine']}"
            ).rowcount
            if (loaded, quarantined) != (result.rows_loaded, result.rows_quarantined) or (
                result.rows_read != loaded + quarantined
            ):
                raise LandingError(
                    result.file_path,
                    f"conservation check failed on Snowflake: read {result.rows_read}, inserted {loaded} events "
                    f"and {quarantined} quarantine rows (expected {result.rows_loaded} and {result.rows_quarantined})",
                    transient=True,
                )
            self._sql("commit")
        except BaseException:
            try:
                self._sql("rollback")
            except Exception:  # noqa: BLE001
                pass
            raise
        return "loaded"

    # -- a batch (the landing folder, `command-center ingest FILE|DIR...`) -------------------------

    def land_paths(
        self,
        paths: Iterable[Path | str],
        *,
        register: Register,
        salt: str,
        log=None,
        remember_refusals: bool = False,
        options_for: Callable[[Path], dict] | None = None,
        **land_file_kwargs,
    ) -> LandingBatch:
        """``landing.land_paths`` on Snowflake: same arguments, same LandingBatch, same refusal memory
        (raw.refused_files in Snowflake)."""
        self.ensure_raw_schema()
        return landing.land_batch(
            paths,
            land_one=lambda path, options: self.land_file(path, register=register, salt=salt, **options),
            refusal_on_record=self._refusal_on_record,
            record_refusal=self._record_refusal,
            log=log,
            remember_refusals=remember_refusals,
            options_for=options_for,
            land_file_kwargs=land_file_kwargs,
        )

    def _refusal_on_record(self, digest: str) -> tuple[str, datetime] | None:
        return self._sql(
            f"select problem, refused_at from {RAW_SCHEMA}.refused_files where file_sha256 = ?", [digest]
        ).fetchone()

    def _record_refusal(self, path: Path, digest: str, problem: str) -> None:
        self._sql(
            f"""merge into {RAW_SCHEMA}.refused_files as r
                using (select ? as file_sha256, ? as file_path, ? as problem, ? as refused_at) as n
                on r.file_sha256 = n.file_sha256
                when matched then update set file_path = n.file_path, problem = n.problem, refused_at = n.refused_at
                when not matched then insert (file_sha256, file_path, problem, refused_at)
                    values (n.file_sha256, n.file_path, n.problem, n.refused_at)""",
            [digest, str(Path(path).resolve()), problem, datetime.now(UTC).replace(tzinfo=None)],
        )


def _check_landable(path: Path, log_format: str) -> None:
    """Refuse what this sink cannot land: an unknown extension, a governance log (DuckDB only so far)."""
    landing.file_format_of(path)
    if log_format == "governance":
        raise LandingError(path, "a governance log lands on the DuckDB target only so far (docs/governance-log.md)")


def _is_snowflake_error(exc: BaseException) -> bool:
    try:
        import snowflake.connector.errors as sf_errors
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, sf_errors.Error)


@contextmanager
def open_snowflake_landing(
    env: Mapping[str, str] | None = None, *, connect_args: Mapping[str, Any] | None = None, **kwargs
) -> Iterator[SnowflakeLanding]:
    """A SnowflakeLanding on a new connection, closed afterwards."""
    con = connect(env, **dict(connect_args or {}))
    sink = SnowflakeLanding(con, **kwargs)
    try:
        yield sink
    finally:
        con.close()
        if sink._landed is not None:
            sink._landed.close()
