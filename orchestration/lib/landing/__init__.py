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
from orchestration.lib.landing.batch import (
    MINIMAL_LOG_FOLDER,
    LandingBatch,
    discover_landing_files,
    land_batch,
    land_paths,
    landing_options_for,
)
from orchestration.lib.landing.common import (
    FILE_FORMATS,
    LOG_FORMATS,
    LandingError,
    LandingResult,
    file_format_of,
    quote_ident,
    sha256_of,
    sql_literal,
)
from orchestration.lib.landing.load import land_file

__all__ = [
    "FILE_FORMATS",
    "LOG_FORMATS",
    "MINIMAL_LOG_FOLDER",
    "LandingBatch",
    "LandingError",
    "LandingResult",
    "discover_landing_files",
    "file_format_of",
    "land_batch",
    "land_file",
    "land_paths",
    "landing_options_for",
    "quote_ident",
    "sha256_of",
    "sql_literal",
]
