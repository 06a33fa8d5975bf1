"""One file's landing transaction: what every landing path does around its writes to raw.*.

``with landing_transaction(con, path) as tx: ...; tx.begin(); ...writes...; tx.commit()`` rolls back
an open transaction on any error, turns a DuckDB error into a LandingError naming the file (transient
when it is not about the file's content, so the landing folder retries it) and drops the temp tables
of the readers and checks. The governance log uses it (governance_log.py); load.py's land_file does
the same inline (to be moved onto this once the landing fast path rewrite has settled).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.landing.common import LandingError
from orchestration.lib.landing.readers import _drop_rejects, _first_line

#: the session temp tables a landing creates (readers.py, validation)
TEMP_TABLES = ("_cc_lines", "_cc_rows", "_cc_numbered", "_cc_records", "_cc_json", "_cc_checked")


class _Transaction:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.open = False

    def begin(self) -> None:
        self.con.execute("begin transaction")
        self.open = True

    def commit(self) -> None:
        self.con.execute("commit")
        self.open = False


@contextmanager
def landing_transaction(con: duckdb.DuckDBPyConnection, path: Path | str) -> Iterator[_Transaction]:
    from orchestration.lib.landing.load import _TRANSIENT_DUCKDB_ERRORS

    tx = _Transaction(con)
    try:
        yield tx
    except duckdb.Error as exc:
        if tx.open:
            con.execute("rollback")
        transient = isinstance(exc, _TRANSIENT_DUCKDB_ERRORS)
        raise LandingError(
            path, f"could not be landed ({'a warehouse error; retry' if transient else 'its content'}): {_first_line(exc)}",
            transient=transient,
        ) from None
    except BaseException:
        if tx.open:
            con.execute("rollback")
        raise
    finally:
        for t in TEMP_TABLES:
            con.execute(f"drop table if exists {t}")
        _drop_rejects(con)
