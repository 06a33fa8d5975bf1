"""``command-center alerts dispatch|list`` (hooked into orchestration/cli.py by `add_alerts_parser`)."""
from __future__ import annotations

STATES = ("pending", "queued", "digested", "delivered", "retrying", "failed_permanent", "suppressed")


def cmd_alerts_dispatch(args, settings) -> int:
    from orchestration.cli import CliError
    from orchestration.lib.alerting import EpisodesNotBuiltError, dispatch_warehouse
    from orchestration.lib.alerting.config import config_from_env

    if settings.dbt_target != "duckdb":
        raise CliError(f"alert dispatch reads the DuckDB warehouse; the dbt target is {settings.dbt_target!r} "
                       "(not supported there yet, docs/alerting.md)")
    config = config_from_env(settings.duckdb_path)
    try:
        result = dispatch_warehouse(settings.duckdb_path, send_digest=args.digest, config=config)
    except EpisodesNotBuiltError as exc:
        raise CliError(str(exc)) from None
    print(f"dispatch: {result.summary()}")
    print(f"outbox file: {config.outbox_file}; webhook: {'configured' if config.has_webhook else 'none (file only)'}")
    if result.sent["failed_permanent"] or result.sent["retrying"]:
        print("not delivered: see `command-center alerts list --state failed_permanent` / `--state retrying`")
        return 1
    return 0


def cmd_alerts_list(args, settings) -> int:
    from orchestration.lib.alerting import list_warehouse

    rows = list_warehouse(settings.duckdb_path, args.state, args.limit)
    if not rows:
        print("no messages in the outbox" + (f" in state {args.state}" if args.state else ""))
        return 0
    for r in rows:
        last = f" last: HTTP {r['last_http_status']}" if r["last_http_status"] else ""
        err = f" ({r['last_error']})" if r["last_error"] and r["state"] != "delivered" else ""
        reason = f" [{r['reason']}]" if r["reason"] and r["state"] == "suppressed" else ""
        print(f"{r['created_at']:%Y-%m-%d %H:%M}  {r['state']:<16} {r['message_kind']:<8} {r['route']:<9} "
              f"{r['owner']}  {r['dedupe_key']}  attempts={r['attempts']}{last}{err}{reason}")
    return 0


def add_alerts_parser(sub) -> None:
    p = sub.add_parser("alerts", help="dispatch the alert episodes to their owners (outbox, webhook, digest), list the outbox")
    asub = p.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    d = asub.add_parser("dispatch", help="send each new alert episode once (after a build; never beside one)")
    d.add_argument("--digest", action="store_true", help="also send the daily digest (one message per owner)")
    d.set_defaults(func=cmd_alerts_dispatch)
    ls = asub.add_parser("list", help="the outbox: each message, its state and last attempt")
    ls.add_argument("--state", choices=STATES)
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_alerts_list)
