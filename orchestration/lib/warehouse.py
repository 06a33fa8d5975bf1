"""Opening the DuckDB warehouse: one writer at a time, UTC session, raw schema present."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.contract import RAW_DDL
from orchestration.settings import ConfigError

#: DuckDB's memory_limit for every warehouse connection (landing, reports) and for dbt (profiles.yml
#: reads the same variable). Past it DuckDB spills to ``<warehouse>.tmp/`` instead of growing: without
#: a limit it takes up to 80% of RAM (18 GiB landing 10M events on a 24 GiB machine; docs/benchmarks.md).
MEMORY_LIMIT_ENV = "COMMAND_CENTER_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def memory_limit() -> str:
    """The configured DuckDB memory_limit (validated: a number and a unit, e.g. '3GB', '512MiB')."""
    value = os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
    if not _MEMORY_LIMIT.match(value):
        raise ConfigError(f"{MEMORY_LIMIT_ENV} must be a size like 3GB or 512MiB, not {value!r}")
    return value


class WarehouseBusyError(RuntimeError):
    """Another process holds the DuckDB write lock (DuckDB allows one writer)."""


def connect(
    path: Path | str, *, read_only: bool = False, setting: str = "COMMAND_CENTER_DUCKDB"
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file at ``path``. A path that cannot be a DuckDB file (a directory, another
    kind of file, a folder that cannot be created) raises ConfigError naming ``setting``, the
    environment variable the path came from."""
    path = Path(path)
    limit = memory_limit()  # a bad limit is a configuration error, before anything is opened
    if path.is_dir():
        raise ConfigError(f"{setting}={path} is a directory; point {setting} at a DuckDB file")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{setting}={path}: cannot create its folder {path.parent} ({exc.strerror or exc})") from None
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise WarehouseBusyError(
                f"the warehouse {path} is in use by another process (DuckDB allows one writer); "
                "wait for it to finish (a dbt build, a Dagster run, the Dagster UI holding it) and retry"
            ) from None
        if "not a valid DuckDB database file" in text:
            raise ConfigError(f"{setting}={path} exists but is not a DuckDB database file; point {setting} elsewhere") from None
        if any(m in text for m in ("Is a directory", "Permission denied", "No such file or directory", "Not a directory")):
            raise ConfigError(f"{setting}={path} cannot be opened: {text.removeprefix('IO Error: ')}") from None
        raise
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = '{limit}'")  # validated above: digits and a unit only
    return con


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    from orchestration.lib.audit.ledger import ensure_ledger_chain

    for ddl in RAW_DDL:
        con.execute(ddl)
    ensure_ledger_chain(con)  # the ledger's hash chain columns; an older ledger is chained once (docs/tamper-evidence.md)


@contextmanager
def open_warehouse(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        if not read_only:
            ensure_raw_schema(con)
        yield con
    finally:
        con.close()
