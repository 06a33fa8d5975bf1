"""Publishing the marts to a separate, read-only DuckDB file that BI tools and reports read.

DuckDB lets one process hold a file for writing, and while it does (a build, a landing, a Dagster
run) every other process, even a read-only one, fails with "Could not set lock on file". So readers
do not open the warehouse: after each successful build the marts are copied to
``COMMAND_CENTER_PUBLISHED_DUCKDB`` (default ``command_center_published.duckdb`` beside the
warehouse), which no writer ever holds open:

* the copy is written to a temporary name in the same folder, checkpointed, fsynced and then
  atomically renamed over the published file (``os.replace``), so a reader opens either the previous
  complete copy or the new complete copy, never a half-written one; a reader that already has the
  old file open keeps reading the old file;
* only a build whose dbt exited 0 publishes: a failed build leaves the last good file untouched;
* the marts copied come from the warehouse's catalog, never a list of model names: every table and
  view of the ``marts`` schema whose name starts with ``dim_``, ``fct_`` or ``agg_``, as a table,
  plus ``publication.published_marts`` (one row per mart: its row count and the publication time),
  the per-role ``governed_<role>`` views over them and ``rbac.role_scopes`` (orchestration.lib.rbac,
  docs/rbac.md), and nothing else: every reader (the demo summary, BI) reads marts only - what landing did is
  ``fct_landed_files`` / ``agg_quarantine_reasons``, the build's as-of instant ``dim_as_of``;
* the warehouse is attached read-only, so the copy is one consistent snapshot of it.

On the Snowflake target there is nothing to publish: Snowflake readers never block on a writer
(every query reads a committed snapshot), so BI tools query the ``marts`` schema directly.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.warehouse import WarehouseBusyError, connect, memory_limit
from orchestration.settings import PUBLISHED_DUCKDB_ENV, ConfigError, Settings, published_path_for

#: The warehouse schema that is published, and the relations in it that BI reads (by prefix).
MARTS_SCHEMA = "marts"
MART_NAME = re.compile(r"^(dim|fct|agg)_[a-z0-9_]+$")
#: Schema and table of the published file that describe the publication itself.
PUBLICATION_TABLE = "publication.published_marts"
#: Catalog names of the two files inside the publishing session.
SOURCE, TARGET = "cc_warehouse", "cc_published"
#: How long publishing waits for another writer (a landing that started right after dbt) to let go.
DEFAULT_LOCK_WAIT_SECONDS = 120.0


class NotPublishedError(RuntimeError):
    """No published marts yet (no successful DuckDB build has run)."""


@dataclass(frozen=True)
class Published:
    path: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    published_at: datetime | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"published {len(self.row_counts)} marts to {self.path} (read-only copy for BI tools; "
            f"{self.seconds:.1f}s)"
        )


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mart_relations(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """Names of the published relations of ``catalog``'s marts schema (from its catalog, sorted)."""
    rows = con.execute(
        """select table_name from information_schema.tables
           where table_catalog = ? and table_schema = ? order by table_name""",
        [catalog, MARTS_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows if MART_NAME.match(name)]


def _remove_leftovers(target: Path) -> None:
    """Temporary copies left by a publisher that died (its pid is gone): delete them."""
    for tmp in target.parent.glob(f".{target.name}.*.tmp*"):
        parts = tmp.name[len(target.name) + 2:].split(".")
        try:
            pid = int(parts[0])
            os.kill(pid, 0)
            continue  # a live publisher's file
        except ProcessLookupError:
            pass
        except (ValueError, IndexError, PermissionError):
            continue
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def _attach_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            con.execute(f"attach {_sql_string(str(warehouse))} as {SOURCE} (read_only)")
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                if "lock" in str(exc).lower():
                    raise WarehouseBusyError(
                        f"the marts were built but not published: the warehouse {warehouse} stayed in use by "
                        f"another process for {wait_seconds:.0f}s; run `command-center build` again to publish"
                    ) from None
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_marts(
    warehouse: Path | str,
    target: Path | str | None = None,
    *,
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> Published | None:
    """Copy the marts of the DuckDB ``warehouse`` to ``target`` (default: beside it, or
    COMMAND_CENTER_PUBLISHED_DUCKDB) atomically. Returns None when the warehouse has no marts yet
    (a build that selected none of them): the previous published file, if any, stays."""
    started = time.monotonic()
    warehouse = Path(warehouse)
    target = Path(target) if target is not None else published_path_for(warehouse)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{PUBLISHED_DUCKDB_ENV}={target}: cannot create its folder {target.parent} ({exc.strerror or exc})"
        ) from None
    if target.is_dir():
        raise ConfigError(f"{PUBLISHED_DUCKDB_ENV}={target} is a directory; point it at a DuckDB file")
    schemas = {MARTS_SCHEMA, PUBLICATION_TABLE.split(".")[0], "rbac"}  # rbac: the governed views' scopes
    if target.name.split(".")[0] in schemas:
        # a reader's catalog is named after the file: marts.duckdb would make `marts.x` ambiguous
        raise ConfigError(f"{PUBLISHED_DUCKDB_ENV}={target}: name it anything but {', '.join(sorted(schemas))}.duckdb")
    if target.resolve() == warehouse.resolve():
        raise ConfigError(f"{PUBLISHED_DUCKDB_ENV} must name another file than the warehouse ({warehouse})")
    _remove_leftovers(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        # an in-memory session attaching both files under fixed names, every name fully qualified
        # (a published file named e.g. marts.duckdb would otherwise shadow the marts schema)
        con = duckdb.connect()
        try:
            con.execute("set TimeZone = 'UTC'")
            con.execute(f"set memory_limit = '{memory_limit()}'")  # validated: digits and a unit only
            con.execute(f"set temp_directory = {_sql_string(f'{tmp}.tmp')}")  # spill beside it, removed below
            con.execute(f"attach {_sql_string(str(tmp))} as {TARGET}")
            _attach_warehouse(con, warehouse, lock_wait_seconds)
            names = mart_relations(con, SOURCE)
            if not names:
                return None
            con.execute("begin")
            con.execute(f"create schema {TARGET}.{MARTS_SCHEMA}")
            counts: dict[str, int] = {}
            for name in names:
                relation = f"{TARGET}.{MARTS_SCHEMA}.{_ident(name)}"
                con.execute(f"create table {relation} as select * from {SOURCE}.{MARTS_SCHEMA}.{_ident(name)}")
                counts[name] = con.execute(f"select count(*) from {relation}").fetchone()[0]
            con.execute(f"create schema {TARGET}.publication")
            con.execute(
                f"""create table {TARGET}.{PUBLICATION_TABLE} (
                        table_schema varchar not null, table_name varchar not null, row_count bigint not null,
                        published_at timestamp not null)"""
            )
            con.executemany(
                f"insert into {TARGET}.{PUBLICATION_TABLE} values (?, ?, ?, ?)",
                [(MARTS_SCHEMA, n, c, published_at) for n, c in counts.items()],
            )
            from orchestration.lib.rbac.duckdb_views import publish_governed_views

            publish_governed_views(con, SOURCE, TARGET, names)  # governed_<role> views (docs/rbac.md)
            con.execute("commit")
            con.execute(f"detach {SOURCE}")
            con.execute(f"checkpoint {TARGET}")
            con.execute(f"detach {TARGET}")
        finally:
            con.close()
        tmp.chmod(0o444)  # a copy for readers: nothing writes to it after the rename
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(f"{tmp}.tmp", ignore_errors=True)
    return Published(target, counts, published_at, time.monotonic() - started)


def publish_after_build(settings: Settings, out: Callable[[str], None] = print) -> Published | None:
    """The step after a successful ``dbt build``: publish the DuckDB marts (a no-op on Snowflake)."""
    from orchestration.lib.snowflake_landing import uses_snowflake

    if uses_snowflake(settings.dbt_target):
        return None
    published = publish_marts(settings.duckdb_path, settings.published_duckdb_path)
    if published is None:
        out(f"note: the warehouse has no marts yet; nothing published to {settings.published_duckdb_path}")
    else:
        out(published.describe())
    return published


def connect_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published marts (never blocked by a build or a landing)."""
    path = settings.published_duckdb_path or published_path_for(settings.duckdb_path)
    if not path.exists():
        raise NotPublishedError(
            f"no published marts yet at {path}; run `command-center build` (or `make demo`) to build and publish them"
        )
    return connect(path, read_only=True, setting=PUBLISHED_DUCKDB_ENV)


def published_status(settings: Settings) -> str:
    """One line for `command-center status`: where BI reads the marts, and as of when."""
    path = settings.published_duckdb_path or published_path_for(settings.duckdb_path)
    if not path.exists():
        return f"published marts: none yet at {path} (the next successful `command-center build` publishes them)"
    con = connect(path, read_only=True, setting=PUBLISHED_DUCKDB_ENV)
    try:
        marts, at = con.execute(f"select count(*), max(published_at) from {PUBLICATION_TABLE}").fetchone()
    finally:
        con.close()
    return f"published marts (what BI reads, read-only): {path}, {marts} marts, published {at:%Y-%m-%d %H:%M:%S} UTC"
