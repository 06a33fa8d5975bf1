"""Batches: the landing folder (Dagster) and `command-center ingest FILE|DIR...` share these."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.landing import governance_log
from orchestration.lib.landing.common import (
    LandingError,
    LandingResult,
    file_format_of,
    is_landable_name,
    printable,
    sha256_of,
)
from orchestration.lib.landing.load import CHANGED_WHILE_LANDING, land_file
from orchestration.lib.landing.small_files import GROUP_FILES, is_small_jsonl, land_small_files
from orchestration.lib.register import Register
from orchestration.lib.warehouse import ensure_raw_schema

#: Folder convention of the landing folder: a file at ``.../minimal/<workflow_id>/<file>`` is a minimum
#: viable event log (case_id, event_name, timestamp, actor, ...) of that workflow -- an XES log when
#: it is a ``.xes`` or ``.xes.gz`` file; anything else is telemetry. Used by the Dagster landing
#: asset and by `command-center ingest FOLDER`.
MINIMAL_LOG_FOLDER = "minimal"


def landing_options_for(path: Path | str) -> dict[str, str]:
    """land_file options implied by where a file sits in the landing folder (see MINIMAL_LOG_FOLDER;
    a file directly in a ``governance/`` folder is a governance log: governance_log.GOVERNANCE_LOG_FOLDER)."""
    parts = Path(path).parts
    if len(parts) >= 3 and parts[-3] == MINIMAL_LOG_FOLDER:
        return {"log_format": "xes" if file_format_of(path) == "xes" else "minimal", "workflow": parts[-2]}
    return governance_log.landing_options_for(path)  # governance/<file>: a governance log


def discover_landing_files(folder: Path | str, *, skipped: list[str] | None = None) -> list[Path]:
    """Every landable file under ``folder`` (recursively), in a stable order (sorted by relative path).

    Landable means an extension of ``landing.FILE_FORMATS`` or ``.xes.gz`` (case-insensitive). Hidden files and
    anything under a hidden folder (``.partial/``, ``.DS_Store``, editor swap files) are skipped, so
    a writer can stage a file under a dot-name and rename it into place when it is complete.
    Order matters: when two files carry the same event_id, the file landed first keeps it.

    Symbolic links are followed only when they stay inside ``folder``: a link to a file or folder
    outside it (``passwd.csv -> /etc/passwd``) is skipped, and so is a broken link; each skip is
    described (control characters escaped) in ``skipped`` when a list is passed, for the caller to
    report.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    root = folder.resolve()
    found = []
    # os.walk does not descend into linked folders: a link to a folder is judged like a link to a file
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        candidates = [here / name for name in filenames if not name.startswith(".")]
        candidates += [here / d for d in dirnames if (here / d).is_symlink()]
        for path in candidates:
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    if is_landable_name(path) or target.is_dir():
                        if skipped is not None:
                            skipped.append(
                                f"{printable(path)}: a symbolic link out of the landing folder "
                                f"(to {printable(target)}); skipped"
                            )
                    continue
                if target.is_dir():
                    continue  # a link to a folder inside the landing folder: its files are found there
            if is_landable_name(path) and path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


@dataclass
class LandingBatch:
    """What landing a set of files did: one result per landed or skipped file, one error per refused
    file, and the files skipped because they were refused by an earlier batch."""

    results: list[LandingResult] = field(default_factory=list)
    refused: list[LandingError] = field(default_factory=list)
    refused_earlier: list[LandingError] = field(default_factory=list)
    #: landing folder only: files that changed while they landed (still being written); nothing of
    #: them was kept and they are not refusals: the next run lands them once they stop changing
    deferred: list[LandingError] = field(default_factory=list)

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
    small_file_groups: bool = True,
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

    Runs of small telemetry JSON Lines files (hourly exports from many producers) are landed as
    groups by ``small_files.land_small_files``: same rows, ledger entries and messages as one by one,
    without the fixed cost per file (``small_file_groups=False`` lands every file alone).
    """
    ensure_raw_schema(con)

    def land_alone(some: list[Path | str]) -> LandingBatch:
        return land_batch(
            some,
            land_one=lambda path, options: land_file(con, path, register=register, salt=salt, **options),
            refusal_on_record=lambda digest: _refusal_on_record(con, digest),
            record_refusal=lambda path, digest, problem: _record_refusal(con, path, digest, problem),
            log=log,
            remember_refusals=remember_refusals,
            options_for=options_for,
            land_file_kwargs=land_file_kwargs,
        )

    paths = list(paths)
    plain = not any(v for k, v in land_file_kwargs.items() if k not in ("now", "landing_run_id", "log_format")) and (
        land_file_kwargs.get("log_format", "telemetry") == "telemetry"
    )
    if not small_file_groups or not plain:
        return land_alone(paths)

    def groupable(path: Path | str) -> bool:
        return is_small_jsonl(Path(path)) and not (options_for(Path(path)) if options_for else {})

    def land_group(group: list[Path]) -> tuple[list, int]:
        refusals = None
        if remember_refusals:
            refusals = {sha: (problem, at) for sha, problem, at in con.execute(
                "select file_sha256, problem, refused_at from raw.refused_files").fetchall()}
        return land_small_files(
            con, group, register=register, salt=salt, refusals=refusals,
            now=land_file_kwargs.get("now"), landing_run_id=land_file_kwargs.get("landing_run_id"),
        )

    return _land_in_groups(paths, groupable=groupable, land_group=land_group, land_alone=land_alone, log=log)


def _land_in_groups(paths: list, *, groupable, land_group, land_alone, log) -> LandingBatch:
    """Runs of at least two groupable files go to ``land_group`` (which lands a prefix of the run and
    says how many it took); every other file, and a file a group cannot take, to ``land_alone``."""
    batch = LandingBatch()
    i = 0
    while i < len(paths):
        j = i
        while j < len(paths) and j - i < GROUP_FILES and groupable(paths[j]):
            j += 1
        outcomes, consumed = land_group([Path(p) for p in paths[i:j]]) if j - i >= 2 else ([], 0)
        for _path, outcome in outcomes:
            if isinstance(outcome, LandingError):
                batch.refused_earlier.append(outcome)
                if log is not None:
                    log.warning(str(outcome))
            else:
                batch.results.append(outcome)
                if log is not None:
                    log.info(outcome.summary)
        if consumed == 0:
            consumed = 1
            alone = land_alone(paths[i:i + 1])
            batch.results += alone.results
            batch.refused += alone.refused
            batch.refused_earlier += alone.refused_earlier
            batch.deferred += alone.deferred
        i += consumed
    return batch


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
            if remember_refusals and exc.transient and exc.problem == CHANGED_WHILE_LANDING:
                batch.deferred.append(exc)
                if log is not None:
                    log.warning(f"not landed yet: {exc}")
                continue
            batch.refused.append(exc)
            if digest is not None and not exc.transient:
                record_refusal(Path(path), digest, exc.problem)
            if log is not None:
                log.warning(f"error: {exc}")
            continue
        batch.results.append(result)
        if log is not None:
            log.info(result.summary)
    return batch
