"""The load ledger as a hash chain (raw.load_ledger), and `command-center verify` over it.

Landing seals its ledger rows in the same transaction that writes them (``seal_loads``: load.py for
a file, small_files.py for a group; the batch path lands through those two). Each entry's hash covers
its counts, who landed it, the content fingerprint of the events it loaded (contract
LOADED_ROW_FINGERPRINT_SQL) and of the quarantine rows it wrote (QUARANTINE_ROW_FINGERPRINT_SQL).
A warehouse whose ledger predates the chain gets the columns and its entries chained once, as they
are then (``ensure_ledger_chain``, from warehouse.ensure_raw_schema): the chain starts at migration.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.audit.chain import (
    CHAIN_COLUMNS,
    Break,
    ChainSpec,
    ensure_chain_columns,
    existing_columns,
    read_entries,
    seal,
    sort_breaks,
    verify_entries,
)
from orchestration.lib.contract import GOVERNANCE_ROW_FINGERPRINT_SQL, LOADED_ROW_FINGERPRINT_SQL

#: The columns of raw.quarantine its fingerprint covers: every stored value except the lineage stamped
#: by the landing (load_id, source_file, quarantined_at), as for the events' fingerprint.
QUARANTINE_FINGERPRINTED_COLUMNS: tuple[str, ...] = (
    "source_row_number", "reason_code", "reason_detail", "raw_record", "event_id", "workflow_id",
)
QUARANTINE_ROW_FINGERPRINT_SQL = (
    "('0x' || left(md5(concat_ws(chr(31), "
    + ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in QUARANTINE_FINGERPRINTED_COLUMNS)
    + ")), 15))::bigint::hugeint"
)

LEDGER_CHAIN = ChainSpec(
    name="load_ledger",
    table="raw.load_ledger",
    key="load_id",
    fields=(
        "load_id", "file_sha256", "file_path", "file_format", "log_format", "file_bytes",
        "rows_read", "rows_loaded", "rows_quarantined", "loaded_at",
        "landed_by_user", "landed_on_host", "landed_by_pid", "landing_run_id",
        "first_event_ts", "loaded_fingerprint", "quarantine_fingerprint", "chain_origin",
    ),
    order_by="loaded_at, rowid",
)


def _fill_quarantine_fingerprints(con: duckdb.DuckDBPyConnection, load_ids: Sequence[str] | None) -> None:
    """Set quarantine_fingerprint (sum over the load's quarantine rows, 0 for none) on these loads."""
    con.execute(
        f"""update raw.load_ledger l set quarantine_fingerprint = coalesce(
                (select sum({QUARANTINE_ROW_FINGERPRINT_SQL}) from raw.quarantine q where q.load_id = l.load_id), 0)
            {"" if load_ids is None else "where l.load_id in (select unnest(?))"}""",
        [] if load_ids is None else [list(load_ids)],
    )


def seal_loads(con: duckdb.DuckDBPyConnection, load_ids: Sequence[str]) -> int:
    """Chain these new ledger rows (inside the landing's transaction): their quarantine fingerprint,
    then sequence, prev_hash and entry_hash after the current head."""
    if not load_ids:
        return 0
    _fill_quarantine_fingerprints(con, load_ids)
    return seal(con, LEDGER_CHAIN, load_ids)


def ensure_ledger_chain(con: duckdb.DuckDBPyConnection) -> int:
    """Give raw.load_ledger the chain columns if it lacks them, and chain its existing entries once, as
    they are now (origin 'migration'). Ledger rows from before the events' fingerprint keep it null
    (their events get the count check only, as in dbt's int_load_ledger_mismatches); every entry gets
    its quarantine fingerprint. Returns how many entries were chained (0: nothing to migrate)."""
    if {"quarantine_fingerprint", *(c for c, _ in CHAIN_COLUMNS)} <= existing_columns(con, LEDGER_CHAIN.table):
        return 0
    con.execute("begin transaction")
    try:
        con.execute("alter table raw.load_ledger add column if not exists quarantine_fingerprint decimal(38, 0)")
        ensure_chain_columns(con, LEDGER_CHAIN)
        _fill_quarantine_fingerprints(con, None)
        n = seal(con, LEDGER_CHAIN, None, origin="migration")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return n


# --------------------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------------------


@dataclass
class Verification:
    """What `command-center verify` found: the chain's shape and every break, first first."""

    entries: int = 0
    chained: int = 0
    head_seq: int = 0
    head_hash: str = ""
    origins: dict[str, int] = field(default_factory=dict)
    events_checked: int = 0
    quarantine_checked: int = 0
    migrated_now: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks

    def as_dict(self) -> dict:
        return {
            "chain": LEDGER_CHAIN.name,
            "table": LEDGER_CHAIN.table,
            "intact": self.intact,
            "entries": self.entries,
            "chained": self.chained,
            "chained_at_migration": self.origins.get("migration", 0),
            "chained_at_landing": self.origins.get("landing", 0),
            "migrated_now": self.migrated_now,
            "head": {"seq": self.head_seq, "entry_hash": self.head_hash},
            "events_checked": self.events_checked,
            "quarantine_rows_checked": self.quarantine_checked,
            "first_break": self.breaks[0].as_dict() if self.breaks else None,
            "breaks": [b.as_dict() for b in self.breaks],
        }


def _present(con: duckdb.DuckDBPyConnection, table: str, fingerprint_sql: str) -> dict[str, tuple[int, int]]:
    return {
        load_id: (int(n), int(fp or 0))
        for load_id, n, fp in con.execute(
            f"select load_id, count(*), sum({fingerprint_sql}) from {table} group by load_id"
        ).fetchall()
    }


def _content_breaks(entries: list[dict], events: dict, quarantine: dict) -> list[Break]:
    """Per ledger entry: the rows in raw against what it vouches for; rows of loads it does not hold."""
    breaks = []
    checks = (
        ("count", "content", "events", events, "rows_loaded", "loaded_fingerprint"),
        ("quarantine_count", "quarantine_content", "quarantine rows", quarantine, "rows_quarantined",
         "quarantine_fingerprint"),
    )
    for e in entries:
        seq = int(e["chain_seq"]) if e.get("chain_seq") is not None else None
        for count_kind, content_kind, what, present, count_col, fp_col in checks:
            n, fp = present.get(e["load_id"], (0, 0))
            if n != int(e[count_col]):
                breaks.append(Break(count_kind, f"the ledger says {int(e[count_col])} {what}, raw holds {n}",
                                    seq, e["load_id"], e["file_path"]))
            elif e.get(fp_col) is not None and fp != int(e[fp_col]):
                breaks.append(Break(content_kind, f"{what} values differ from what the load landed (fingerprint)",
                                    seq, e["load_id"], e["file_path"]))
    known = {e["load_id"] for e in entries}
    for what, present in (("events", events), ("quarantine rows", quarantine)):
        for load_id, (n, _) in sorted(present.items()):
            if load_id not in known:
                breaks.append(Break("orphan_rows", f"{n} {what} of load {load_id}, which no ledger entry holds",
                                    None, load_id, None))
    return breaks


def verify_ledger(con: duckdb.DuckDBPyConnection, *, expected_head: str | None = None) -> Verification:
    """Recompute the ledger chain and, per entry, the counts and fingerprints of its rows in raw."""
    entries = read_entries(con, LEDGER_CHAIN)
    chain = verify_entries(LEDGER_CHAIN, entries, label=lambda r: r["file_path"])
    events = _present(con, "raw.workflow_events", LOADED_ROW_FINGERPRINT_SQL)
    # a governance log's load vouches for its rows of raw.governance_actions (landing/governance_log.py)
    events.update(_present(con, "raw.governance_actions", GOVERNANCE_ROW_FINGERPRINT_SQL))
    quarantine = _present(con, "raw.quarantine", QUARANTINE_ROW_FINGERPRINT_SQL)
    # a retention purge explains exactly the rows it recorded (orchestration/lib/retention.py)
    from orchestration.lib.retention import expected_with_purges, verify_purges

    expected_events, expected_quarantine = expected_with_purges(con, events, quarantine)
    breaks = chain.breaks + _content_breaks(entries, expected_events, expected_quarantine) + verify_purges(con)
    if expected_head is not None and expected_head != chain.head_hash:
        breaks.append(Break(
            "head_mismatch",
            f"the newest entry's hash is {chain.head_hash[:16]}..., not the expected {expected_head[:16]}... "
            "(entries after it deleted, or the chain rewritten)", None, None, None,
        ))
    return Verification(
        entries=chain.entries, chained=chain.chained, head_seq=chain.head_seq, head_hash=chain.head_hash,
        origins=chain.origins, events_checked=sum(n for n, _ in events.values()),
        quarantine_checked=sum(n for n, _ in quarantine.values()), breaks=sort_breaks(breaks),
    )


def run_verify(path: Path, *, expected_head: str | None = None) -> Verification:
    """Open the warehouse at ``path`` (it must exist), migrate a ledger without a chain, verify it."""
    from orchestration.lib.contract import RAW_DDL
    from orchestration.lib.warehouse import connect
    from orchestration.settings import ConfigError

    if not Path(path).is_file():
        raise ConfigError(f"no warehouse at {path}; land something first (`command-center ingest FILE`)")
    con = connect(path)
    try:
        for ddl in RAW_DDL:
            con.execute(ddl)
        migrated = ensure_ledger_chain(con)
        result = verify_ledger(con, expected_head=expected_head)
    finally:
        con.close()
    result.migrated_now = migrated
    return result
