"""The retention purge (issue 13 part 4, docs/residency.md): expired raw rows deleted per region,
recorded in a hash chain so that `command-center verify` tells a purge from tampering.

``purge(con, register, as_of=...)`` deletes, in ONE transaction:

* from ``raw.workflow_events`` every run (workflow_id, run_id) one of whose events has an ``event_ts``
  before its region's cutoff, whole: all of its events, also those after the cutoff (deleted early,
  never kept late; a run cut in two would read as a run without its start to the log-completeness
  gate and the run marts). So a purge summary's ``newest_ts`` may be later than its cutoff;
* from ``raw.quarantine`` every row whose ``quarantined_at`` is before its region's cutoff (a
  quarantined record's own timestamp may be unreadable, so a quarantine row ages from when it was
  quarantined; its region is the record's ``region`` field when it is a JSON object with one, the
  region named by a ``residency_violation`` detail, else unknown: the default retention);

where a region's cutoff is ``as_of - retention_days`` of ``data_controls.residency.<region>``, and
for any other region ``as_of - telemetry.retention_days``. ``as_of`` is now (UTC) unless pinned.

In the same transaction it writes what it deleted:

* ``raw.retention_purged_loads``: per purge, load and table, the rows deleted and the sum of their
  content fingerprints (the same fingerprints the load ledger vouches for: contract
  LOADED_ROW_FINGERPRINT_SQL, audit/ledger.py QUARANTINE_ROW_FINGERPRINT_SQL);
* ``raw.retention_purges``: one entry per purge run (also when nothing expired): who ran it, as_of,
  per region and table the rows deleted, oldest and newest timestamp and the cutoff (``summary_json``),
  the totals and a sha256 over its purged-loads rows (``loads_digest``), chained like the load
  ledger (audit/chain.py, chain ``retention_purges``).

`command-center verify` then expects, per ledger entry, the rows present plus the rows purged
(``expected_with_purges``), and verifies the purge chain and each entry's ``loads_digest``
(``verify_purges``): a purge explains exactly the rows it recorded, any other deletion still breaks.

What the purge does not touch: marts. The incremental models assume one retention boundary for the
whole warehouse, which a purge by region and by whole run does not keep, so the build after a purge
that deleted events is a full refresh (``rebuild_pending``: `command-center build` does it by itself,
the Dagster job runs it right after its purge); ``fct_slo_weekly_snapshot`` ignores --full-refresh and
keeps its past weeks (it never recomputes weeks outside its lookback).
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from orchestration.lib.audit.chain import Break, ChainSpec, ensure_chain_columns, read_entries, seal, verify_entries
from orchestration.lib.contract import LOADED_ROW_FINGERPRINT_SQL
from orchestration.lib.landing.common import sql_literal
from orchestration.lib.register import Register

PURGES_DDL = """
create table if not exists raw.retention_purges (
    purge_id            varchar not null primary key,
    purged_at           timestamp not null,   -- wall clock, UTC
    as_of               timestamp not null,   -- the instant the cutoffs are relative to, UTC
    purged_by_user      varchar,
    purged_on_host      varchar,
    purge_run_id        varchar,              -- the Dagster run, null from the CLI
    summary_json        varchar not null,     -- [{region, table, retention_days, cutoff, rows, oldest_ts, newest_ts}]
    events_purged       bigint not null,
    quarantine_purged   bigint not null,
    loads_digest        varchar not null,     -- sha256 over its raw.retention_purged_loads rows
    rebuilt_at          timestamp             -- when a full-refresh build followed (not chained: bookkeeping)
)
"""
PURGED_LOADS_DDL = """
create table if not exists raw.retention_purged_loads (
    purge_id            varchar not null,
    load_id             varchar not null,
    table_name          varchar not null,     -- workflow_events | quarantine
    rows_purged         bigint not null,
    fingerprint_purged  decimal(38, 0),       -- sum of the purged rows' content fingerprints
    primary key (purge_id, load_id, table_name)
)
"""

PURGE_CHAIN = ChainSpec(
    name="retention_purges",
    table="raw.retention_purges",
    key="purge_id",
    fields=(
        "purge_id", "purged_at", "as_of", "purged_by_user", "purged_on_host", "purge_run_id", "summary_json",
        "events_purged", "quarantine_purged", "loads_digest", "chain_origin",
    ),
    order_by="purged_at, rowid",
)

#: The region of a quarantine row (see the module docstring).
QUARANTINE_REGION_SQL = (
    "coalesce(case when json_valid(raw_record) and json_type(raw_record) = 'OBJECT' "
    "then json_extract_string(raw_record, '$.region') end, "
    "regexp_extract(reason_detail, '^region (\\S+) has eu_only_processing', 1), '')"
)
#: (table, timestamp column, region expression, fingerprint)
_TABLES = (
    ("workflow_events", "event_ts", "region", LOADED_ROW_FINGERPRINT_SQL),
    ("quarantine", "quarantined_at", QUARANTINE_REGION_SQL, None),
)


def ensure_retention_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(PURGES_DDL)
    con.execute(PURGED_LOADS_DDL)
    ensure_chain_columns(con, PURGE_CHAIN)


def rebuild_pending(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a purge deleted events since the last full-refresh build. The incremental models assume
    retention cuts the oldest events of the whole warehouse (one boundary, docs/metrics.md); a purge by
    region and by whole run breaks that assumption, so the next build is a full refresh (the weekly SLO
    snapshot ignores --full-refresh and keeps its history)."""
    return _has_tables(con) and bool(con.execute(
        "select count(*) from raw.retention_purges where events_purged > 0 and rebuilt_at is null").fetchone()[0])


def mark_rebuilt(con: duckdb.DuckDBPyConnection) -> None:
    """After a successful full-refresh build: the pending purges are reflected in the marts."""
    if _has_tables(con):
        con.execute("update raw.retention_purges set rebuilt_at = now()::timestamp where rebuilt_at is null")


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'raw' and table_name in ('retention_purges', 'retention_purged_loads')"
    ).fetchone()[0] == 2


def cutoffs(register: Register, as_of: datetime) -> tuple[dict[str, tuple[int, datetime]], tuple[int, datetime]]:
    """Per region of data_controls.residency (retention_days, cutoff), and the default for any other."""
    per_region = {r: (c.retention_days, as_of - timedelta(days=c.retention_days))
                  for r, c in register.data_controls.residency.items()}
    days = register.telemetry.retention_days
    return per_region, (days, as_of - timedelta(days=days))


def _cutoff_sql(register: Register, as_of: datetime, region_expr: str) -> str:
    per_region, (_, default) = cutoffs(register, as_of)
    ts = lambda d: f"timestamp {sql_literal(d.strftime('%Y-%m-%d %H:%M:%S.%f'))}"  # noqa: E731
    whens = " ".join(f"when {sql_literal(r)} then {ts(c)}" for r, (_, c) in sorted(per_region.items()))
    return f"(case {region_expr} {whens} else {ts(default)} end)" if whens else f"({ts(default)})"


@dataclass
class PurgeResult:
    purge_id: str | None
    as_of: datetime
    dry_run: bool
    #: per (region, table): rows, oldest_ts, newest_ts, cutoff, retention_days
    summary: list[dict] = field(default_factory=list)
    events_purged: int = 0
    quarantine_purged: int = 0

    def lines(self) -> list[str]:
        what = "would delete" if self.dry_run else "deleted"
        out = [f"retention purge as of {self.as_of:%Y-%m-%d %H:%M:%S} UTC: {what} {self.events_purged} events and "
               f"{self.quarantine_purged} quarantine rows" + ("" if self.dry_run else f" (purge {self.purge_id})")]
        for s in self.summary:
            out.append(f"  {s['region'] or '(other regions)'} {s['table']}: {s['rows']} rows before {s['cutoff']} "
                       f"({s['retention_days']} days; oldest {s['oldest_ts']}, newest {s['newest_ts']})")
        if self.dry_run:
            out.append("dry run: nothing was deleted or recorded")
        return out


def _select_expired(con: duckdb.DuckDBPyConnection, register: Register, as_of: datetime) -> None:
    """Temp tables _cc_purge_<table>: the expired rows' rowid, load, region, timestamp, fingerprint."""
    from orchestration.lib.audit.ledger import QUARANTINE_ROW_FINGERPRINT_SQL

    for table, ts_col, region_expr, fingerprint in _TABLES:
        fp = fingerprint or QUARANTINE_ROW_FINGERPRINT_SQL
        expired = f"{ts_col} < {_cutoff_sql(register, as_of, region_expr)}"
        if table == "workflow_events":
            # whole runs: a run one of whose events expired goes with all its events (a run cut in two
            # would read as a run without its start to the log-completeness gate and the run marts)
            expired = f"""(workflow_id, run_id) in (
                select distinct workflow_id, run_id from raw.workflow_events where {expired})"""
        con.execute(f"""create or replace temp table _cc_purge_{table} as
            select rowid as _rowid, load_id, {region_expr} as _region, {ts_col} as _ts, {fp} as _fp
            from raw.{table}
            where {expired}""")


def _summary(con: duckdb.DuckDBPyConnection, register: Register, as_of: datetime) -> list[dict]:
    per_region, default = cutoffs(register, as_of)
    out = []
    for table, *_ in _TABLES:
        for region, n, oldest, newest in con.execute(
            f"select _region, count(*), min(_ts), max(_ts) from _cc_purge_{table} group by 1 order by 1"
        ).fetchall():
            days, cutoff = per_region.get(region, default)
            out.append({"region": region or "", "table": table,
                        "retention_days": days, "cutoff": f"{cutoff:%Y-%m-%d %H:%M:%S}", "rows": int(n),
                        "oldest_ts": f"{oldest:%Y-%m-%d %H:%M:%S}", "newest_ts": f"{newest:%Y-%m-%d %H:%M:%S}"})
    return out


def loads_digest(rows: list[tuple]) -> str:
    """sha256 over a purge's purged-loads rows (load_id, table_name, rows_purged, fingerprint_purged),
    one line each, sorted."""
    lines = sorted(f"{load}|{table}|{int(n)}|{'' if fp is None else int(fp)}" for load, table, n, fp in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def purge(
    con: duckdb.DuckDBPyConnection, register: Register, *, as_of: datetime | None = None, dry_run: bool = False,
    run_id: str | None = None,
) -> PurgeResult:
    """Delete the expired raw rows per region and record it (module docstring); ``dry_run``: only count."""
    from orchestration.lib.landing.load import _landed_by
    from orchestration.lib.warehouse import ensure_raw_schema

    as_of = as_of or datetime.now(UTC)
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    if not dry_run:  # a dry run creates nothing
        ensure_raw_schema(con)
        ensure_retention_schema(con)
    con.execute("set TimeZone = 'UTC'")
    con.execute("begin transaction")
    try:
        _select_expired(con, register, as_of)
        result = PurgeResult(None, as_of, dry_run, summary=_summary(con, register, as_of))
        result.events_purged = sum(s["rows"] for s in result.summary if s["table"] == "workflow_events")
        result.quarantine_purged = sum(s["rows"] for s in result.summary if s["table"] == "quarantine")
        if dry_run:
            con.execute("rollback")
            return result
        result.purge_id = uuid.uuid4().hex
        for table, *_ in _TABLES:
            con.execute(
                f"""insert into raw.retention_purged_loads
                    select ?, load_id, ?, count(*), sum(_fp) from _cc_purge_{table} group by load_id""",
                [result.purge_id, table],
            )
            con.execute(f"delete from raw.{table} where rowid in (select _rowid from _cc_purge_{table})")
        detail = con.execute(
            "select load_id, table_name, rows_purged, fingerprint_purged from raw.retention_purged_loads where purge_id = ?",
            [result.purge_id],
        ).fetchall()
        who = _landed_by()
        con.execute(
            """insert into raw.retention_purges (purge_id, purged_at, as_of, purged_by_user, purged_on_host, purge_run_id,
                   summary_json, events_purged, quarantine_purged, loads_digest) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [result.purge_id, datetime.now(UTC).replace(tzinfo=None), as_of, who["landed_by_user"], who["landed_on_host"],
             run_id, json.dumps(result.summary, sort_keys=True), result.events_purged, result.quarantine_purged,
             loads_digest(detail)],
        )
        seal(con, PURGE_CHAIN, [result.purge_id], origin="purge")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for table, *_ in _TABLES:
            con.execute(f"drop table if exists _cc_purge_{table}")
    return result


# --------------------------------------------------------------------------------------------------
# verify (called by audit/ledger.verify_ledger)
# --------------------------------------------------------------------------------------------------


def expected_with_purges(
    con: duckdb.DuckDBPyConnection, events: dict[str, tuple[int, int]], quarantine: dict[str, tuple[int, int]],
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per load (count, fingerprint) present plus what the recorded purges deleted: what the ledger vouches for."""
    if not _has_tables(con):
        return events, quarantine
    out = {"workflow_events": dict(events), "quarantine": dict(quarantine)}
    for load_id, table, n, fp in con.execute(
        "select load_id, table_name, sum(rows_purged), sum(coalesce(fingerprint_purged, 0)) "
        "from raw.retention_purged_loads group by 1, 2"
    ).fetchall():
        have = out.setdefault(table, {}).get(load_id, (0, 0))
        out[table][load_id] = (have[0] + int(n), have[1] + int(fp or 0))
    return out["workflow_events"], out["quarantine"]


def verify_purges(con: duckdb.DuckDBPyConnection) -> list[Break]:
    """Breaks of the purge chain (an entry edited, deleted or reordered) and of each entry's purged-loads
    rows (``loads_digest``); reported outside the ledger's sequence (seq None), labelled 'retention purge'."""
    if not _has_tables(con):
        return []
    entries = read_entries(con, PURGE_CHAIN)
    report = verify_entries(PURGE_CHAIN, entries, label=lambda r: "retention purge")
    breaks = [Break(b.kind, f"retention purge chain, entry seq {b.seq}: {b.detail}", None, b.key, "retention purge")
              for b in report.breaks]
    detail: dict[str, list[tuple]] = {}
    for purge_id, load_id, table, n, fp in con.execute(
        "select purge_id, load_id, table_name, rows_purged, fingerprint_purged from raw.retention_purged_loads"
    ).fetchall():
        detail.setdefault(purge_id, []).append((load_id, table, n, fp))
    known = set()
    for e in entries:
        known.add(e["purge_id"])
        if loads_digest(detail.get(e["purge_id"], [])) != e["loads_digest"]:
            breaks.append(Break("content", "retention purge: its purged-loads rows (raw.retention_purged_loads) "
                                "differ from what the purge recorded (loads_digest)", None, e["purge_id"], "retention purge"))
    for purge_id in sorted(set(detail) - known):
        breaks.append(Break("orphan_rows", f"raw.retention_purged_loads rows of purge {purge_id}, which no purge "
                            "entry holds", None, purge_id, "retention purge"))
    return breaks


def purges_in_period(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[dict]:
    """The purges run in [start, end) (purged_at, UTC), oldest first, with their summaries parsed."""
    if not _has_tables(con):
        return []
    cur = con.execute(
        """select purge_id, purged_at, as_of, purged_by_user, purged_on_host, purge_run_id, events_purged,
                  quarantine_purged, summary_json, chain_seq, entry_hash
           from raw.retention_purges where purged_at >= ? and purged_at < ? order by chain_seq""",
        [start, end],
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["summary"] = json.loads(r.pop("summary_json"))
    return rows


def run_purge(
    duckdb_path, register: Register, *, as_of: datetime | None = None, dry_run: bool = False, run_id: str | None = None,
) -> PurgeResult:
    """Open the warehouse (it must exist) and purge it."""
    from pathlib import Path

    from orchestration.lib.warehouse import connect
    from orchestration.settings import ConfigError

    if not Path(duckdb_path).is_file():
        raise ConfigError(f"no warehouse at {duckdb_path}; land something first (`command-center ingest FILE`)")
    con = connect(duckdb_path)
    try:
        return purge(con, register, as_of=as_of, dry_run=dry_run, run_id=run_id)
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------
# `command-center purge`
# --------------------------------------------------------------------------------------------------


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--as-of {text!r} is not an ISO 8601 timestamp (e.g. 2026-11-23 or 2026-11-23T06:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_purge(args, settings) -> int:
    from pathlib import Path

    from orchestration.lib.register import load_register
    from orchestration.lib.snowflake_landing import uses_snowflake
    from orchestration.settings import ConfigError

    if not args.duckdb and uses_snowflake(settings.dbt_target):
        raise ConfigError("the retention purge runs on the DuckDB warehouse only (docs/residency.md); "
                          "pass --duckdb PATH to purge a DuckDB warehouse")
    try:
        as_of = parse_as_of(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    result = run_purge(Path(args.duckdb) if args.duckdb else settings.duckdb_path, load_register(settings.register_path),
                       as_of=as_of, dry_run=args.dry_run)
    print("\n".join(result.lines()))
    if result.events_purged and not result.dry_run:
        print("next: `command-center build` (a full refresh after a purge that deleted events; docs/residency.md)")
    return 0


def add_purge_parser(sub) -> None:
    p = sub.add_parser(
        "purge",
        help="delete raw events and quarantine rows older than their region's retention (data_controls.residency, "
        "else telemetry.retention_days), in one transaction, recorded in the audit chain (docs/residency.md)",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete and record nothing")
    p.add_argument("--as-of", metavar="TIMESTAMP", help="the instant retention counts back from (default: now, UTC)")
    p.add_argument("--duckdb", metavar="PATH", help="the DuckDB warehouse (default: COMMAND_CENTER_DUCKDB)")
    p.set_defaults(func=cmd_purge)


# --------------------------------------------------------------------------------------------------
# the evidence pack's section (orchestration/lib/audit/evidence.py)
# --------------------------------------------------------------------------------------------------

EVIDENCE_COLUMNS = (
    "purge_id", "purged_at", "as_of", "purged_by_user", "purged_on_host", "purge_run_id", "chain_seq", "entry_hash",
    "region", "table_name", "retention_days", "cutoff", "rows_deleted", "oldest_ts", "newest_ts",
)


def evidence_rows(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> tuple[list[tuple], list[dict]]:
    """retention_purges.csv rows (one per purge x region x table; a purge that deleted nothing has one row
    with empty region) and the purges themselves (for retention.json), of the purges run in [start, end)."""
    purges = purges_in_period(con, start, end)
    rows = []
    for p in purges:
        head = (p["purge_id"], p["purged_at"], p["as_of"], p["purged_by_user"], p["purged_on_host"], p["purge_run_id"],
                p["chain_seq"], p["entry_hash"])
        rows += [(*head, s["region"], s["table"], s["retention_days"], s["cutoff"], s["rows"], s["oldest_ts"],
                  s["newest_ts"]) for s in p["summary"]] or [(*head, "", "", "", "", 0, "", "")]
    listed = [{"purge_id": p["purge_id"], "purged_at": str(p["purged_at"]), "as_of": str(p["as_of"]),
               "events_deleted": p["events_purged"], "quarantine_rows_deleted": p["quarantine_purged"]} for p in purges]
    return rows, listed


def evidence_summary_lines(period: str, purges: int, rows: int) -> list[str]:
    return [
        "## Retention purges (`retention_purges.csv`)",
        "",
        f"{purges} purge(s) ran in {period} (by `purged_at`, UTC; `command-center purge`, the Dagster job "
        f"`retention_purge_job`), {rows} row(s): per purge, region and raw table, the rows deleted, their oldest and "
        "newest timestamp, the retention and the cutoff, who ran it and the purge's entry in the `retention_purges` "
        "hash chain (verified with the ledger: a purged row is not a break, any other deletion is).",
        "",
    ]


def rebuild_after_purge(settings, log=print) -> bool:
    """The full-refresh ``dbt build`` a purge that deleted events calls for (``rebuild_pending``), then
    publish; the Dagster job runs it right after its purge, so the daily incremental build finds marts
    that match the raw tables. Returns whether it built (nothing pending: no build)."""
    from orchestration.lib.dbt import duckdb_full_build_thread_args, run_dbt
    from orchestration.lib.publish import publish_after_build
    from orchestration.lib.warehouse import open_warehouse

    with open_warehouse(settings.duckdb_path) as con:
        if not rebuild_pending(con):
            return False
        threads = duckdb_full_build_thread_args(con, full_refresh=True)
    log("a retention purge deleted events: dbt build --full-refresh (docs/residency.md)")
    run_dbt(settings, ["build", "--full-refresh", *threads])
    with open_warehouse(settings.duckdb_path) as con:
        mark_rebuilt(con)
    publish_after_build(settings, out=log)
    return True
