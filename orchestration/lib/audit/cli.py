"""`command-center verify` and `command-center evidence` (hooked into orchestration/cli.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

EXIT_OK, EXIT_BROKEN = 0, 1


def _duckdb_only(args, settings) -> None:
    from orchestration.lib.snowflake_landing import uses_snowflake
    from orchestration.settings import ConfigError

    if not args.duckdb and uses_snowflake(settings.dbt_target):
        raise ConfigError(
            "the ledger's hash chain is kept on DuckDB only (the Snowflake ledger is not chained yet; "
            "docs/tamper-evidence.md); pass --duckdb PATH to verify a DuckDB warehouse"
        )


def cmd_verify(args, settings) -> int:
    """Verify the warehouse's ledger chain (migrating a ledger that has none first); exit 1 on any break."""
    from orchestration.lib.audit.ledger import run_verify

    _duckdb_only(args, settings)
    result = run_verify(Path(args.duckdb) if args.duckdb else settings.duckdb_path, expected_head=args.expect_head)
    migrated = result.migrated_now
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        if migrated:
            print(f"migrated: the ledger had no hash chain; its {migrated} entries were chained now, as they are "
                  "(the chain starts here: changes made before cannot be detected)")
        print(
            f"ledger chain: {result.entries} entries, {result.chained} chained "
            f"({result.origins.get('migration', 0)} at migration), head seq {result.head_seq} {result.head_hash}; "
            f"checked {result.events_checked} events, {result.quarantine_checked} quarantine rows"
        )
        print("intact" if result.intact else f"BROKEN: {len(result.breaks)} break(s); the first is listed first")
    for b in result.breaks:
        print(f"error: {b.line('load_ledger')}", file=sys.stderr)
    return EXIT_OK if result.intact else EXIT_BROKEN


def cmd_evidence(args, settings) -> int:
    """Write the evidence pack; exit 1 when the chain verification inside it found a break."""
    from orchestration.lib.audit.evidence import EvidenceError, write_evidence_pack
    from orchestration.lib.register import load_register
    from orchestration.settings import ConfigError

    _duckdb_only(args, settings)
    try:
        result = write_evidence_pack(
            period=args.period, out=Path(args.out), duckdb_path=Path(args.duckdb) if args.duckdb else settings.duckdb_path,
            register=load_register(settings.register_path), register_path=settings.register_path,
        )
    except EvidenceError as exc:
        raise ConfigError(str(exc)) from None
    print(f"evidence pack for {args.period} written to {args.out} (summary.md, MANIFEST.sha256: sha256sum -c)")
    print(f"chain verification: {'intact' if result.intact else f'BROKEN ({len(result.breaks)} break(s))'}")
    for b in result.breaks:
        print(f"error: {b.line('load_ledger')}", file=sys.stderr)
    return EXIT_OK if result.intact else EXIT_BROKEN


def add_audit_parsers(sub) -> None:
    v = sub.add_parser(
        "verify",
        help="recompute the load ledger's hash chain and the counts and contents of the landed rows; name the first break",
    )
    v.add_argument("--duckdb", metavar="PATH", help="the DuckDB warehouse (default: COMMAND_CENTER_DUCKDB)")
    v.add_argument("--json", action="store_true", help="print the result as JSON (what the evidence pack keeps)")
    v.add_argument("--expect-head", metavar="SHA256",
                   help="the head hash kept elsewhere earlier: a different head means entries deleted or rewritten")
    v.set_defaults(func=cmd_verify)

    e = sub.add_parser(
        "evidence",
        help="write the evidence pack of a month: RBAC and residency maps, retention, the landing ledger extract, "
        "the chain verification, a summary and a SHA-256 manifest",
    )
    e.add_argument("--period", required=True, metavar="YYYY-MM", help="the calendar month (UTC)")
    e.add_argument("--out", required=True, metavar="DIR", help="a new (or empty) folder to write the pack to")
    e.add_argument("--duckdb", metavar="PATH", help="the DuckDB warehouse (default: COMMAND_CENTER_DUCKDB)")
    e.set_defaults(func=cmd_evidence)
