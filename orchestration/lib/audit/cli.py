"""`command-center verify` and `command-center evidence` (hooked into orchestration/cli.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

EXIT_OK, EXIT_BROKEN = 0, 1


def cmd_verify(args, settings) -> int:
    """Verify the warehouse's ledger chain (migrating a ledger that has none first); exit 1 on any break."""
    from orchestration.lib.audit.ledger import run_verify

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
