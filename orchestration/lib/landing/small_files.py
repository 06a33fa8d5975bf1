"""Many small JSON Lines files landed together: one read, one validation, one commit per group.

Landing a file alone costs a fixed ~20 statements (read, parse, validate, insert, ledger), whatever its
size: 10,000 hourly one-row exports took half an hour. ``land_small_files`` lands a run of small
telemetry JSON Lines files of a folder as one group, with the same result as landing them one by one
in order:

* each file keeps its own load_id, ledger row (sha256 of exactly the bytes read, counts, who,
  fingerprint), source_file and line numbers, and every rule applies per file: a repeated event_id
  is ``duplicate_event_id_in_file`` within a file and ``duplicate_event_id`` across files (the file
  earlier in the order keeps it), as landing them one at a time would say;
* the bytes are read once (so they are exactly what is hashed), concatenated into one temporary
  JSON Lines file and read, validated and inserted by the same SQL as ``land_file``; the rows are
  then given their file's load_id and line numbers, inside the group's one transaction;
* the group commits together: each file is still all-or-nothing (nothing of a file is ever kept
  without its ledger row), and a failure keeps nothing of the group.

A file that needs ``land_file``'s own handling stops the group and is landed alone, in order: one
holding a carriage return, an empty one, one that changed while it was read, one that cannot be
read. If any file of the group would be refused (no line is a JSON object), the whole group is
landed file by file instead, so the refusal is that file's alone.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.audit.ledger import seal_loads
from orchestration.lib.contract import LOADED_ROW_FINGERPRINT_SQL
from orchestration.lib.landing import validation
from orchestration.lib.landing.common import FILE_FORMATS, FileState, LandingError, LandingResult
from orchestration.lib.landing.projection import _telemetry_projection
from orchestration.lib.landing.readers import _drop_rejects, _read_jsonl
from orchestration.lib.register import Register
from orchestration.lib.warehouse import ensure_raw_schema

#: Files up to this size may be landed in a group (bigger files gain nothing from it).
SMALL_FILE_BYTES = 1 << 20
#: Most files and bytes in one group (one transaction).
GROUP_FILES = 2000
GROUP_BYTES = 64 << 20

_TEMP_TABLES = ("_cc_lines", "_cc_numbered", "_cc_records", "_cc_json", "_cc_checked", "_cc_ranges", "_cc_dupfix")


def is_small_jsonl(path: Path) -> bool:
    """A file ``land_small_files`` may take: JSON Lines by extension, a regular file, non-empty and small."""
    if FILE_FORMATS.get(path.suffix.lower()) != "jsonl":
        return False
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return path.is_file() and 0 < size <= SMALL_FILE_BYTES


class _Fallback(Exception):
    """Land this group file by file instead."""


def land_small_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    *,
    register: Register,
    salt: str,
    now: datetime | None = None,
    landing_run_id: str | None = None,
    refusals: dict[str, tuple[str, datetime]] | None = None,
) -> tuple[list[tuple[Path, LandingResult | LandingError]], int]:
    """Land a prefix of ``paths`` (small telemetry JSON Lines files, in landing order) as one group.

    Returns ``(outcomes, consumed)``: one outcome per file of the prefix, in order (a LandingResult,
    loaded or already loaded, or the LandingError of a file refused by an earlier batch when
    ``refusals`` maps its sha256 to (problem, refused_at)), and how many of ``paths`` the prefix
    holds. ``consumed`` is 0 when the first file must be landed alone (see the module docstring).
    """
    ensure_raw_schema(con)
    con.execute("set TimeZone = 'UTC'")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    members = _read_members(paths)
    if not members:
        return [], 0
    outcomes, to_land, first_of = _classify(con, members, refusals)
    if to_land:
        try:
            landed = _land_group(con, to_land, register=register, salt=salt, now=now, landing_run_id=landing_run_id)
        except _Fallback:
            return [], 0
        outcomes.update(landed)
    for i, m in enumerate(members):
        if i not in outcomes:  # a repeat of bytes landed earlier in this group
            first = outcomes[first_of[m["sha256"]]]
            outcomes[i] = LandingResult(str(m["path"]), m["sha256"], "already_loaded", first.load_id, loaded_at=now)
    return [(m["path"], outcomes[i]) for i, m in enumerate(members)], len(members)


def _read_members(paths: list[Path]) -> list[dict]:
    """The longest prefix of ``paths`` a group can take, each file's bytes read once (and hashed)."""
    members: list[dict] = []
    total = 0
    for path in paths[:GROUP_FILES]:
        try:
            before = FileState.of(path)
            data = path.read_bytes()
            after = FileState.of(path)
        except OSError:
            break
        if before != after or len(data) != after.size or not data or b"\r" in data:
            break
        if members and total + len(data) > GROUP_BYTES:
            break
        total += len(data)
        members.append({"path": path, "data": data, "sha256": hashlib.sha256(data).hexdigest(), "state": after})
    return members


def _classify(con, members: list[dict], refusals) -> tuple[dict, list[dict], dict[str, int]]:
    """Outcomes known before landing (refused earlier, already loaded), the files to land, and the
    index of the first file of each content (later ones are already loaded by it)."""
    digests = sorted({m["sha256"] for m in members})
    previous = {
        sha: (load_id, at) for sha, load_id, at in con.execute(
            "select file_sha256, load_id, loaded_at from raw.load_ledger where file_sha256 in (select unnest(?))",
            [digests],
        ).fetchall()
    }
    outcomes: dict[int, LandingResult | LandingError] = {}
    to_land: list[dict] = []
    first_of: dict[str, int] = {}
    for i, m in enumerate(members):
        sha = m["sha256"]
        if refusals is not None and sha in refusals:
            problem, at = refusals[sha]
            outcomes[i] = LandingError(m["path"], f"refused earlier ({at:%Y-%m-%d %H:%M} UTC), skipped: {problem}")
        elif sha in previous:
            load_id, at = previous[sha]
            outcomes[i] = LandingResult(str(m["path"]), sha, "already_loaded", load_id, loaded_at=at)
        elif sha in first_of:
            continue  # the same bytes twice in the group: already loaded by the first (filled in below)
        else:
            first_of[sha] = i
            m["index"] = i
            to_land.append(m)
    return outcomes, to_land, first_of


def _read_group(con, members: list[dict], workdir: Path) -> None:
    """Concatenate the files into one JSON Lines file, read it (``_cc_records``) and record each file's
    line range (``_cc_ranges``); _Fallback when a file must be landed alone."""
    line = 0
    ranges = []
    concatenated = workdir / "group.jsonl"
    with concatenated.open("wb") as out:
        for m in members:
            data = m["data"] if m["data"].endswith(b"\n") else m["data"] + b"\n"
            n = data.count(b"\n")
            m["load_id"] = uuid.uuid4().hex
            ranges.append({"idx": m["index"], "start": line + 1, "stop": line + n, "load_id": m["load_id"],
                           "source_file": str(m["path"].resolve()), "sha256": m["sha256"],
                           "file_bytes": m["state"].size})
            line += n
            out.write(data)
    try:
        _read_jsonl(con, concatenated)
    except LandingError:
        raise _Fallback from None
    ranges_arrow = pa.Table.from_pylist(ranges)  # noqa: F841 - read by name below
    con.execute("create temp table _cc_ranges as select * from ranges_arrow")
    refused = con.execute(
        """select count(*) from (
               select r.idx from _cc_ranges r join _cc_records c on c._row between r.start and r.stop
               group by r.idx having count(*) filter (where c._problem is null) = 0)"""
    ).fetchone()[0]
    if refused:
        raise _Fallback  # a file with no JSON object is refused: alone, so the refusal is its own
    for m in members:
        if FileState.of(m["path"]) != m["state"]:
            raise _Fallback  # changed since it was read: land_file says so, for that file alone


def _land_group(con, members: list[dict], *, register: Register, salt: str, now: datetime,
                landing_run_id: str | None) -> dict[int, LandingResult]:
    from orchestration.lib.landing.load import landing_params

    workdir = Path(tempfile.mkdtemp(prefix="cc_small_files_"))
    group_id = "group-" + uuid.uuid4().hex
    in_transaction = False
    try:
        _read_group(con, members, workdir)
        projection, source = _telemetry_projection()
        redacted = list(register.data_controls.redaction.fields)
        params = landing_params(register, salt=salt, now=now, load_id=group_id, source_file="")
        con.execute("begin transaction")
        in_transaction = True
        validation._validate_and_load(con, "telemetry", projection, source, redacted, params)
        # across files, the first occurrence in a later file repeats an earlier file, not its own
        con.execute(
            """create temp table _cc_dupfix as
            with c as (
                select c._row, c.event_id, c._reason, r.idx,
                       row_number() over (partition by c.event_id, r.idx order by c._row) as nth_in_file
                from _cc_checked c join _cc_ranges r on c._row between r.start and r.stop
                where c._reason is null or c._reason in ('duplicate_event_id_in_file', 'duplicate_event_id')
            )
            select _row, event_id from c where _reason = 'duplicate_event_id_in_file' and nth_in_file = 1"""
        )
        detail = "'event_id ' || '''' || left(d.event_id, 64) || ''' was loaded by an earlier file'"
        con.execute(
            f"""update _cc_checked c set _reason = 'duplicate_event_id', _reason_detail = {detail}
                from _cc_dupfix d where c._row = d._row"""
        )
        con.execute(
            f"""update raw.quarantine q set reason_code = 'duplicate_event_id', reason_detail = {detail}
                from _cc_dupfix d where q.load_id = ? and q.source_row_number = d._row""",
            [group_id],
        )
        for table in ("raw.workflow_events", "raw.quarantine"):
            con.execute(
                f"""update {table} t set load_id = r.load_id, source_file = r.source_file,
                           source_row_number = t.source_row_number - r.start + 1
                    from _cc_ranges r
                    where t.load_id = ? and t.source_row_number between r.start and r.stop""",
                [group_id],
            )
        stats, by_reason = _file_stats_and_ledger(con, now=now, landing_run_id=landing_run_id)
        # the ledger's hash chain, in this transaction, in file order (docs/tamper-evidence.md)
        seal_loads(con, [m["load_id"] for m in sorted(members, key=lambda m: m["index"])])
        con.execute("commit")
        in_transaction = False
    except _Fallback:
        if in_transaction:
            con.execute("rollback")
        raise
    except duckdb.Error:
        if in_transaction:
            con.execute("rollback")
        # file by file: land_file reports the error as the one file's, transient or a refusal
        raise _Fallback from None
    except BaseException:
        if in_transaction:
            con.execute("rollback")
        raise
    finally:
        for t in _TEMP_TABLES:
            con.execute(f"drop table if exists {t}")
        _drop_rejects(con)
        shutil.rmtree(workdir, ignore_errors=True)
    results = {}
    for m in members:
        read, loaded = stats[m["index"]]
        reasons = by_reason.get(m["index"], [])
        results[m["index"]] = LandingResult(
            str(m["path"]), m["sha256"], "loaded", m["load_id"], read, loaded, read - loaded,
            {reason: n for reason, n, _ in reasons}, now,
            quarantine_samples={reason: s for reason, _, s in reasons if s is not None},
        )
    return results


def _file_stats_and_ledger(con, *, now: datetime, landing_run_id: str | None) -> tuple[dict, dict]:
    """Per file of the group: (rows read, rows loaded), the quarantine reasons, and its ledger row."""
    from orchestration.lib.landing.load import _landed_by

    stats = {
        idx: (read, loaded)
        for idx, read, loaded in con.execute(
            """select r.idx, count(c._row), count(c._row) filter (where c._reason is null)
               from _cc_ranges r left join _cc_checked c on c._row between r.start and r.stop group by r.idx"""
        ).fetchall()
    }
    by_reason: dict[int, list[tuple]] = {}
    for idx, reason, n, sample in con.execute(
        """select r.idx, c._reason, count(*), arg_min(c._reason_detail, c._row)
           from _cc_ranges r join _cc_checked c on c._row between r.start and r.stop
           where c._reason is not null group by 1, 2 order by 1, 2"""
    ).fetchall():
        by_reason.setdefault(idx, []).append((reason, n, sample))
    who = _landed_by()
    con.execute(
        f"""insert into raw.load_ledger (load_id, file_sha256, file_path, file_format, log_format, file_bytes,
                rows_read, rows_loaded, rows_quarantined, loaded_at, landed_by_user, landed_on_host,
                landed_by_pid, landing_run_id, first_event_ts, loaded_fingerprint)
            with stored as (
                select load_id, min(event_ts) as first_event_ts, sum({LOADED_ROW_FINGERPRINT_SQL}) as fingerprint
                from raw.workflow_events where load_id in (select load_id from _cc_ranges) group by load_id
            ),
            counted as (
                select r.idx, count(c._row) as rows_read, count(c._row) filter (where c._reason is null) as loaded
                from _cc_ranges r left join _cc_checked c on c._row between r.start and r.stop group by r.idx
            )
            select r.load_id, r.sha256, r.source_file, 'jsonl', 'telemetry', r.file_bytes,
                   n.rows_read, n.loaded, n.rows_read - n.loaded, ?, ?, ?, ?, ?,
                   s.first_event_ts, coalesce(s.fingerprint, 0)
            from _cc_ranges r join counted n using (idx) left join stored s using (load_id)
            order by r.idx""",
        [now, who["landed_by_user"], who["landed_on_host"], who["landed_by_pid"], landing_run_id],
    )
    return stats, by_reason
