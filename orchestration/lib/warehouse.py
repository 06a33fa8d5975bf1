"""Opening the DuckDB warehouse: one writer at a time, UTC session, raw schema present."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.contract import RAW_DDL


class WarehouseBusyError(RuntimeError):
    """Another process holds the DuckDB write lock (DuckDB allows one writer)."""


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusyError(
                f"the warehouse {path} is in use by another process (DuckDB allows one writer); "
                "wait for it to finish (a dbt build, a Dagster run, the Dagster UI holding it) and retry"
            ) from None
        raise
    con.execute("set TimeZone = 'UTC'")
    return con


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in RAW_DDL:
        con.execute(ddl)


@contextmanager
def open_warehouse(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        if not read_only:
            ensure_raw_schema(con)
        yield con
    finally:
        con.close()
