"""What the landing-folder sensor decides, as pure functions: which files are new since the last run
request, the cursor that remembers them, and the run key that makes a request idempotent.

The sensor (orchestration/defs/sensors.py) only lists and ``stat``s files: it never opens the
DuckDB warehouse (a reader would contend with the writers) and never reads file contents (hashing
every file every 30 seconds would not scale). A file is identified by its path relative to the
landing folder; its *state* is ``(size, mtime_ns)``. Exactly-once landing does not rest on this:
the landing asset skips a file whose sha256 is already in the load ledger, so a spurious request
(a ``touch``, a lost cursor) costs one quick run that lands nothing, never a duplicate row.

Cursor: JSON ``{"version": 1, "files": {"<relative path>": [size, mtime_ns], ...}}`` holding the
files as of the last run request. Files that disappeared are dropped from it, so it stays the size
of the landing folder; a cursor that cannot be read counts as empty (one extra run, harmless).
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.landing.common import printable

CURSOR_VERSION = 1

#: (size in bytes, modification time in ns) of one file.
FileState = tuple[int, int]


def file_states(folder: Path | str, paths: Iterable[Path | str]) -> dict[str, FileState]:
    """``{relative posix path: (size, mtime_ns)}`` of ``paths`` under ``folder``.

    A file that vanished between listing and ``stat`` is left out (it will be seen, or not, on the
    next evaluation).
    """
    folder = Path(folder)
    states: dict[str, FileState] = {}
    for path in paths:
        path = Path(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        try:
            rel = path.relative_to(folder).as_posix()
        except ValueError:
            rel = path.as_posix()
        states[rel] = (int(st.st_size), int(st.st_mtime_ns))
    return states


#: How long the sensor waits before stat-ing new or changed files a second time: a file whose size or
#: mtime moved meanwhile is still being written, and is not requested yet.
SETTLE_SECONDS = 0.5


def still_moving(folder: Path | str, states: Mapping[str, FileState], paths: Iterable[str],
                 *, pause: float = SETTLE_SECONDS) -> set[str]:
    """Of ``paths`` (relative to ``folder``, with their ``states`` as first seen), those whose size or
    mtime differ after ``pause`` seconds (or that vanished): still being written, so not landed yet.
    They stay out of the run request and of the cursor, so a later evaluation sees them again."""
    paths = list(paths)
    if not paths:
        return set()
    time.sleep(pause)
    folder = Path(folder)
    again = file_states(folder, [folder / p for p in paths])
    return {p for p in paths if again.get(p) != tuple(states[p])}


def load_cursor(cursor: str | None) -> dict[str, FileState]:
    """The file states a cursor remembers; ``{}`` for no cursor or one this version cannot read."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        if data.get("version") != CURSOR_VERSION:
            return {}
        return {str(k): (int(v[0]), int(v[1])) for k, v in data["files"].items()}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}


def dump_cursor(states: Mapping[str, FileState]) -> str:
    """The cursor for ``states`` (sorted keys, compact: the same files give the same string)."""
    files = {k: [states[k][0], states[k][1]] for k in sorted(states)}
    return json.dumps({"version": CURSOR_VERSION, "files": files}, separators=(",", ":"))


@dataclass(frozen=True)
class LandingDiff:
    """The landing folder now against the cursor: paths new to it, changed since, gone from it."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def to_land(self) -> tuple[str, ...]:
        """The files that warrant a landing run (new or changed), sorted."""
        return tuple(sorted((*self.new, *self.changed)))

    @property
    def has_files_to_land(self) -> bool:
        return bool(self.new or self.changed)


def diff_files(previous: Mapping[str, FileState], current: Mapping[str, FileState]) -> LandingDiff:
    """Compare two snapshots of the folder. A file is *changed* when its size or mtime differs."""
    return LandingDiff(
        new=tuple(sorted(p for p in current if p not in previous)),
        changed=tuple(sorted(p for p in current if p in previous and tuple(previous[p]) != tuple(current[p]))),
        removed=tuple(sorted(p for p in previous if p not in current)),
    )


def run_key(current: Mapping[str, FileState], paths: Iterable[str]) -> str:
    """A run key naming exactly these files in these states: re-evaluating the same folder (e.g. a
    tick whose cursor update was lost) yields the same key, which Dagster will not launch twice;
    a file that changes again yields a new key."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        size, mtime_ns = current[path]
        digest.update(f"{path}\0{size}\0{mtime_ns}\n".encode())
    return f"landing-{digest.hexdigest()[:20]}"


def describe(paths: Iterable[str], limit: int = 5) -> str:
    """A short human list of paths for run tags and logs: 'a.jsonl, b.csv and 3 more' (control
    characters escaped: a newline in a file name must not split a log line)."""
    paths = [printable(p) for p in paths]
    shown = ", ".join(paths[:limit])
    return shown if len(paths) <= limit else f"{shown} and {len(paths) - limit} more"
