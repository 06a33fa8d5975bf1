"""A hash chain over an append-only table: generic over "a table with a key, a sequence and a hash".

Each entry carries ``chain_seq`` (1, 2, 3, ... in the order entries were chained), ``prev_hash`` (the
previous entry's ``entry_hash``; ``GENESIS`` for the first) and ``entry_hash`` = sha256 over a
canonical serialization of the spec's fields, the sequence and ``prev_hash``. Editing any hashed
field, deleting an entry or swapping two entries' sequence numbers breaks the chain at that entry;
``verify_entries`` names each break. The load ledger is the first chain (audit/ledger.py); the
governance log can become a second one with its own ``ChainSpec``.

What a chain cannot show by itself: a whole chain rewritten by someone with write access to the
file (recompute every hash), or the newest entries deleted (the rest still chains). Keep the head
hash elsewhere (the evidence pack's manifest, a ticket) and pass it back (``expected_head``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal

import duckdb

#: prev_hash of the first entry of every chain
GENESIS = "0" * 64

#: the columns a chained table gets (added by ensure_chain_columns when missing)
CHAIN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chain_seq", "bigint"),
    ("prev_hash", "varchar"),
    ("entry_hash", "varchar"),
    ("chain_origin", "varchar"),  # 'landing' (chained when written) or 'migration' (chained after the fact)
)


@dataclass(frozen=True)
class ChainSpec:
    """What is chained: ``table`` (schema.name), its ``key`` column, the ``fields`` hashed (besides
    chain_seq and prev_hash), the ``order_by`` of entries chained together (migration, a group),
    and ``version`` (part of every hash: changing the fields means a new version)."""

    name: str
    table: str
    key: str
    fields: tuple[str, ...]
    order_by: str
    version: str = "v1"


@dataclass
class Break:
    """One break of a chain or of the data an entry vouches for."""

    kind: str  # see KIND_ORDER
    detail: str
    seq: int | None = None
    key: str | None = None
    label: str | None = None  # e.g. the file of a ledger entry

    def line(self, chain: str) -> str:
        where = f"entry seq {self.seq}" if self.seq is not None else "no entry"
        if self.key is not None:
            where += f" ({self.key}" + (f", {self.label}" if self.label else "") + ")"
        return f"{chain} chain broken at {where}: {self.kind}: {self.detail}"

    def as_dict(self) -> dict:
        return asdict(self)


#: order of break kinds within one entry (the first listed is reported first)
KIND_ORDER = (
    "missing_entry", "reordered", "duplicate_seq", "hash_mismatch", "link_broken", "unchained",
    "count", "content", "quarantine_count", "quarantine_content", "orphan_rows", "head_mismatch",
)


def sort_breaks(breaks: Iterable[Break]) -> list[Break]:
    """Breaks in chain order: by entry sequence (entries outside the chain last), then KIND_ORDER."""
    return sorted(
        breaks,
        key=lambda b: (b.seq is None, b.seq or 0, KIND_ORDER.index(b.kind) if b.kind in KIND_ORDER else 99),
    )


def canonical_value(value: object) -> object:
    """A value as it is hashed: text for numbers and instants (microseconds, no time zone), None as null."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(int(value)) if value == int(value) else str(value)
    return str(value)


def entry_hash(spec: ChainSpec, row: Mapping[str, object], seq: int, prev_hash: str) -> str:
    """sha256 (hex) of the canonical serialization: a JSON array of [field, value] pairs in the spec's
    order, then chain_seq and prev_hash, prefixed by the chain's name and version."""
    pairs = [[f, canonical_value(row.get(f))] for f in spec.fields]
    pairs += [["chain_seq", str(seq)], ["prev_hash", prev_hash]]
    text = f"command_center:{spec.name}:{spec.version}\n" + json.dumps(pairs, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    return {
        c for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }


def ensure_chain_columns(con: duckdb.DuckDBPyConnection, spec: ChainSpec) -> bool:
    """Add the chain columns the table lacks; True when any was missing (the table needs migrating)."""
    have = existing_columns(con, spec.table)
    missing = [(c, t) for c, t in CHAIN_COLUMNS if c not in have]
    for column, sql_type in missing:
        con.execute(f"alter table {spec.table} add column if not exists {column} {sql_type}")
    return bool(missing)


def head(con: duckdb.DuckDBPyConnection, spec: ChainSpec) -> tuple[int, str]:
    """(sequence, entry_hash) of the newest chained entry; (0, GENESIS) for an empty chain."""
    row = con.execute(
        f"select chain_seq, entry_hash from {spec.table} where chain_seq is not null order by chain_seq desc limit 1"
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


def seal(con: duckdb.DuckDBPyConnection, spec: ChainSpec, keys: Sequence[str] | None, *, origin: str = "landing") -> int:
    """Chain the entries with these keys (``None``: every entry not chained yet), in ``spec.order_by``
    order, after the current head. Run it inside the transaction that wrote them. Returns how many."""
    where = "chain_seq is null" + ("" if keys is None else f" and {spec.key} in (select unnest(?))")
    cur = con.execute(
        f"select {', '.join(dict.fromkeys((spec.key, *spec.fields)))} from {spec.table} where {where} order by {spec.order_by}",
        [] if keys is None else [list(keys)],
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    seq, prev = head(con, spec)
    updates = []
    for row in rows:
        seq += 1
        digest = entry_hash(spec, {**row, "chain_origin": origin}, seq, prev)
        updates.append([seq, prev, digest, origin, row[spec.key]])
        prev = digest
    if updates:
        con.executemany(
            f"update {spec.table} set chain_seq = ?, prev_hash = ?, entry_hash = ?, chain_origin = ? where {spec.key} = ?",
            updates,
        )
    return len(updates)


@dataclass
class ChainReport:
    entries: int = 0
    chained: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    origins: dict[str, int] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)


def read_entries(con: duckdb.DuckDBPyConnection, spec: ChainSpec, extra: Sequence[str] = ()) -> list[dict]:
    cols = dict.fromkeys((spec.key, *spec.fields, *(c for c, _ in CHAIN_COLUMNS), *extra))
    cur = con.execute(f"select {', '.join(cols)} from {spec.table} order by chain_seq nulls last, {spec.order_by}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _original_seq(spec: ChainSpec, row: Mapping, upto: int) -> int | None:
    """The sequence number an entry was hashed with, if only its sequence number changed."""
    for seq in range(1, upto + 1):
        if entry_hash(spec, row, seq, row.get("prev_hash") or "") == row.get("entry_hash"):
            return seq
    return None


def verify_entries(spec: ChainSpec, rows: Sequence[Mapping], *, label=lambda row: None) -> ChainReport:
    """Recompute the chain over ``rows`` (every entry of the table) and return its breaks.

    Per entry in sequence order: a gap in the sequence (``missing_entry``: an entry was deleted),
    two entries with one sequence (``duplicate_seq``), a prev_hash that is the hash of another entry
    (``reordered``), a prev_hash that is no entry's hash (``link_broken``), fields that no longer hash
    to the entry_hash (``hash_mismatch``: edited). Entries with no sequence are ``unchained``."""
    report = ChainReport(entries=len(rows))
    chained = sorted((r for r in rows if r.get("chain_seq") is not None), key=lambda r: int(r["chain_seq"]))
    report.chained = len(chained)
    by_hash = {r["entry_hash"]: r for r in chained if r.get("entry_hash")}
    for r in chained:
        origin = r.get("chain_origin") or "?"
        report.origins[origin] = report.origins.get(origin, 0) + 1
    expected_seq, prev, prev_seq = 1, GENESIS, 0
    for r in chained:
        seq = int(r["chain_seq"])
        key, where = r[spec.key], label(r)
        gap = seq > expected_seq
        if seq < expected_seq:
            report.breaks.append(Break("duplicate_seq", f"sequence {seq} is used by more than one entry", seq, key, where))
        elif gap:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq} to {seq - 1}"
            report.breaks.append(Break(
                "missing_entry", f"entry seq {missing} is missing (deleted): the sequence jumps from {prev_seq} to {seq}",
                seq, key, where,
            ))
        recomputed = entry_hash(spec, r, seq, r.get("prev_hash") or "")
        edited = recomputed != r.get("entry_hash")
        if r.get("prev_hash") != prev:
            other = by_hash.get(r.get("prev_hash"))
            if other is not None and other is not r:
                other_seq = int(other["chain_seq"])
                was = _original_seq(spec, r, int(chained[-1]["chain_seq"]) + 1) if edited else seq
                report.breaks.append(Break(
                    "reordered",
                    f"it was chained right after the entry now at seq {other_seq} ({other[spec.key]}), "
                    f"not after seq {prev_seq}" + (f"; it was seq {was}" if was is not None else ""),
                    seq, key, where,
                ))
                edited = edited and was is None
            elif not gap:
                report.breaks.append(Break(
                    "link_broken", f"prev_hash {str(r.get('prev_hash'))[:12]}... is not the hash of entry seq {prev_seq}",
                    seq, key, where,
                ))
        if edited:
            report.breaks.append(Break(
                "hash_mismatch", "its fields no longer hash to its entry_hash (the entry was edited)", seq, key, where,
            ))
        expected_seq, prev, prev_seq = max(expected_seq, seq + 1), r.get("entry_hash") or "", seq
    for r in rows:
        if r.get("chain_seq") is None:
            report.breaks.append(Break(
                "unchained", "an entry outside the chain (written without landing?)", None, r[spec.key], label(r),
            ))
    if chained:
        report.head_seq, report.head_hash = int(chained[-1]["chain_seq"]), chained[-1].get("entry_hash") or ""
    return report
