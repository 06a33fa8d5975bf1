"""What every landing step shares: the refusal error, the per-file result, file formats and SQL quoting."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

FILE_FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xes": "xes",
}
#: Two-part extensions (``Path.suffix`` sees only ``.gz``): XES logs may come gzipped (landing/xes.py).
COMPOUND_FORMATS = {".xes.gz": "xes"}
LOG_FORMATS = ("telemetry", "minimal", "xes")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\r``, ``\\t``, ``\\x1b``...), so a
    file name holding a newline or an escape sequence prints as one inert line and cannot forge log
    lines or move the terminal's cursor. Use it for every path that is printed or logged."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


class LandingError(Exception):
    """The file was refused whole. The message names the file (control characters escaped) and the
    problem in a user's words (never a parser dump or SQL)."""

    def __init__(self, path: Path | str, problem: str, *, transient: bool = False):
        self.path = str(path)
        self.problem = problem
        #: True when the failure is not about the file's content (the warehouse is busy, the disk is
        #: full, the file changed while it landed): the same file may land on a later try, so it is
        #: not remembered as refused.
        self.transient = transient
        super().__init__(f"{printable(path)}: {problem}")


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
    #: per reason code, the reason_detail of its first quarantined row (hints.py quotes it)
    quarantine_samples: dict[str, str] = field(default_factory=dict)
    #: the ledger's log_format ('governance': a governance log, whose hints differ; governance_log.py)
    log_format: str = "telemetry"

    @property
    def summary(self) -> str:
        if self.status == "already_loaded":
            return (
                f"{printable(self.file_path)}: already loaded (load {self.load_id} at {self.loaded_at:%Y-%m-%d %H:%M:%S} UTC, "
                "same sha256); nothing changed"
            )
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.quarantine_reasons.items()))
        return (
            f"{printable(self.file_path)}: read {self.rows_read}, loaded {self.rows_loaded}, "
            f"quarantined {self.rows_quarantined}" + (f" ({reasons})" if reasons else "")
        )


def file_format_of(path: Path | str) -> str:
    name = Path(path).name.lower()
    for compound, fmt in COMPOUND_FORMATS.items():
        if name.endswith(compound):
            return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in FILE_FORMATS:
        raise LandingError(
            path, f"unsupported file extension {suffix or '(none)'!r}; "
            f"expected one of {', '.join(sorted([*FILE_FORMATS, *COMPOUND_FORMATS]))}"
        )
    return FILE_FORMATS[suffix]


def is_landable_name(path: Path | str) -> bool:
    """Whether the file's extension is one landing reads (FILE_FORMATS or COMPOUND_FORMATS, any case)."""
    name = Path(path).name.lower()
    return Path(name).suffix in FILE_FORMATS or name.endswith(tuple(COMPOUND_FORMATS))


@dataclass(frozen=True)
class FileState:
    """What ``stat`` says of a file: any write changes ``ctime_ns`` (which no user can set back)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path | str) -> FileState:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass(frozen=True)
class FileScan:
    """One pass over a file's bytes: the sha256, whether it holds a carriage return at all, and the
    file's state before and after the pass (``changed`` when something wrote to it meanwhile)."""

    sha256: str
    carriage_return: bool
    state: FileState
    changed: bool


def scan_file(path: Path) -> FileScan:
    """Hash ``path`` and look for carriage returns in the same pass (C-speed ``bytes`` methods, no
    per-row Python). ``changed`` is True when the file's size, mtime or ctime moved during the pass."""
    before = FileState.of(path)
    digest = hashlib.sha256()
    carriage_return = False
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            carriage_return = carriage_return or b"\r" in chunk
    after = FileState.of(path)
    return FileScan(digest.hexdigest(), carriage_return, after, after != before)


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

