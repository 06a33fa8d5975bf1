"""`command-center`: generate sample events, land files, build the marts, show status, run the demo.

Every subcommand has --help, returns non-zero on failure and prints errors a person can act on.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.settings import ConfigError, Settings, get_settings, prepare_environment

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """An expected failure: printed as 'error: ...' without a traceback."""


# ------------------------------------------------------------------------------------------------
# shared steps
# ------------------------------------------------------------------------------------------------


def _load_register(settings: Settings):
    from orchestration.lib.register import load_register

    return load_register(settings.register_path)


def land_register_step(settings: Settings, con) -> None:
    from orchestration.lib.register import land_register, register_sha256

    register = _load_register(settings)
    land_register(con, register, source_path=str(settings.register_path), sha256=register_sha256(settings.register_path))


def _check_salt(settings: Settings, register) -> None:
    """Every landing: warn on stderr when the development redaction salt is used, or refuse when the
    register requires a secret one (data_controls.redaction.require_secret_salt)."""
    from orchestration.lib.landing.redaction import RedactionSaltError, check_redaction_salt

    try:
        warning = check_redaction_salt(register, settings.redaction_salt, settings.dbt_target)
    except RedactionSaltError as exc:
        raise CliError(str(exc)) from None
    if warning:
        print(warning, file=sys.stderr)


def ingest_paths(
    settings: Settings,
    paths: list[Path],
    *,
    log_format: str = "telemetry",
    workflow: str | None = None,
    region: str | None = None,
    column_map: dict[str, str] | None = None,
    timestamp_format: str | None = None,
    timezone: str | None = None,
    out=print,
):
    """Land files (one transaction each) after refreshing the register tables; the same
    ``land_paths`` the Dagster landing asset uses. A folder stands for the landable files under it."""
    from orchestration.lib.landing import discover_landing_files, land_paths, landing_options_for
    from orchestration.lib.snowflake_landing import uses_snowflake
    from orchestration.lib.warehouse import open_warehouse

    files: list[Path] = []
    from_folders: set[Path] = set()
    for p in paths:
        skipped_links: list[str] = []
        found = discover_landing_files(p, skipped=skipped_links) if p.is_dir() else [p]
        for skipped in skipped_links:
            out(f"warning: {skipped}")
        files.extend(found)
        if p.is_dir():
            from_folders.update(found)

    def options_for(path: Path) -> dict:
        # files found in a folder follow the landing folder's convention unless flags say otherwise
        if log_format == "telemetry" and path in from_folders:
            return landing_options_for(path)
        return {}

    class _Printer:
        def info(self, message: str) -> None:
            out(message)

        def warning(self, message: str) -> None:
            out(message)

    register = _load_register(settings)
    _check_salt(settings, register)
    if uses_snowflake(settings.dbt_target):
        # the dbt target is snowflake: the same validation (land_file), shipped to Snowflake
        from orchestration.lib.register import register_sha256
        from orchestration.lib.snowflake_landing import open_snowflake_landing

        with open_snowflake_landing() as sink:
            sink.land_register(
                register, source_path=str(settings.register_path), sha256=register_sha256(settings.register_path)
            )
            return sink.land_paths(
                files, register=register, salt=settings.redaction_salt, log=_Printer(), options_for=options_for,
                log_format=log_format, workflow=workflow, region=region, column_map=column_map,
                timestamp_format=timestamp_format, timezone=timezone,
            )
    with open_warehouse(settings.duckdb_path) as con:
        land_register_step(settings, con)
        return land_paths(
            con, files, register=register, salt=settings.redaction_salt, log=_Printer(), options_for=options_for,
            log_format=log_format, workflow=workflow, region=region, column_map=column_map,
            timestamp_format=timestamp_format, timezone=timezone,
        )


def _parse_map(values: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise CliError(f"--map expects FIELD=COLUMN (e.g. case_id=order_id), got {item!r}")
        key, value = (p.strip() for p in item.split("=", 1))
        if not key or not value:
            raise CliError(f"--map expects FIELD=COLUMN with both sides non-empty, got {item!r}")
        mapping[key] = value
    return mapping


def _end_date(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"--end-date must be YYYY-MM-DD, got {value!r}") from None


# ------------------------------------------------------------------------------------------------
# subcommands
# ------------------------------------------------------------------------------------------------


def cmd_generate(args, settings: Settings) -> int:
    from orchestration.lib.generator import generate_events, generate_minimal_log, write_events

    out = Path(args.out)
    if args.log_format == "xes":  # an XES file is written as it is generated (generator/xes.py)
        from orchestration.lib.generator.xes import write_xes_log

        if not out.name.lower().endswith((".xes", ".xes.gz")) or args.days <= 0 or args.runs_per_day <= 0:
            raise CliError("--log-format xes writes --out FILE.xes or FILE.xes.gz, with positive --days and --runs-per-day")
        end = _end_date(args.end_date)
        out.parent.mkdir(parents=True, exist_ok=True)
        traces, events = write_xes_log(out, days=args.days, cases_per_day=args.runs_per_day, seed=args.seed, end_date=end)
        print(f"wrote {events} xes events in {traces} traces ({args.days} days ending {end}, seed {args.seed}) to {out}")
        return EXIT_OK
    fmt = args.format or {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(
        out.suffix.lower()
    )
    if fmt is None:
        raise CliError(f"cannot tell the format of {out}; pass --format jsonl|csv|parquet or use that extension")
    if args.days <= 0 or args.runs_per_day <= 0:
        raise CliError("--days and --runs-per-day must be positive")
    if not 0 <= args.defect_rate < 1:
        raise CliError("--defect-rate must be in [0, 1)")
    end = _end_date(args.end_date)
    if args.log_format == "governance":  # the action log of the runs the same arguments generate
        from orchestration.lib.generator.governance_log import generate_governance_file

        log = generate_governance_file(out, fmt, days=args.days, runs_per_day=args.runs_per_day, seed=args.seed,
                                       end_date=end, defect_rate=args.defect_rate, register=_load_register(settings))
        print(f"wrote {len(log.rows)} governance actions ({args.days} days ending {end}, seed {args.seed}) to {out}, "
              f"planted violations in {out}.manifest.json")
        return EXIT_OK
    if args.log_format == "minimal":
        table = generate_minimal_log(days=args.days, cases_per_day=args.runs_per_day, seed=args.seed, end_date=end)
    else:
        table = generate_events(
            days=args.days,
            runs_per_day=args.runs_per_day,
            seed=args.seed,
            end_date=end,
            defect_rate=args.defect_rate,
            register=_load_register(settings),
            fmt=fmt,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = write_events(table, out, fmt)
    print(f"wrote {rows} {args.log_format} events ({args.days} days ending {end}, seed {args.seed}) to {out}")
    return EXIT_OK


def _landing_location(settings: Settings) -> str:
    from orchestration.lib.snowflake_landing import uses_snowflake

    if uses_snowflake(settings.dbt_target):
        return f"Snowflake database {os.environ.get('SNOWFLAKE_DATABASE', '?')} (schema raw)"
    return str(settings.duckdb_path)


def cmd_ingest(args, settings: Settings) -> int:
    from orchestration.lib.landing.common import printable
    from orchestration.lib.landing.hints import hints_for_result
    from orchestration.lib.landing.timestamps import TimestampOptionError, check_timestamp_options

    try:
        check_timestamp_options(args.timestamp_format, args.timezone)
    except TimestampOptionError as exc:
        raise CliError(str(exc)) from None
    batch = ingest_paths(
        settings,
        [Path(p) for p in args.files],
        log_format=args.log_format,
        workflow=args.workflow,
        region=args.region,
        column_map=_parse_map(args.map),
        timestamp_format=args.timestamp_format,
        timezone=args.timezone,
    )
    # say what happened: a likely cause and its fix when one reason quarantines > 5% of a file
    for result in batch.landed:
        for hint in hints_for_result(result):
            print(f"hint: {printable(result.file_path)}: {hint}")
    if (args.timestamp_format or args.timezone) and batch.skipped:
        print(
            f"note: {len(batch.skipped)} file(s) were landed before (same bytes), so --timestamp-format / "
            "--timezone did not apply to them; to re-read their quarantined rows, land the corrected export "
            "(new bytes): rows loaded the first time are then duplicates, the others load"
        )
    print(
        f"{len(batch.landed)} file(s) landed, {len(batch.skipped)} already loaded, {len(batch.refused)} refused; "
        f"{batch.rows_loaded} rows loaded, {batch.rows_quarantined} quarantined into {_landing_location(settings)}"
    )
    return EXIT_FAILED if batch.refused else EXIT_OK


def cmd_build(args, settings: Settings) -> int:
    from orchestration.lib import retention
    from orchestration.lib.dbt import current_manifest, duckdb_full_build_thread_args, run_dbt
    from orchestration.lib.publish import publish_after_build
    from orchestration.lib.snowflake_landing import uses_snowflake
    from orchestration.lib.warehouse import open_warehouse

    if uses_snowflake(settings.dbt_target):
        # the register lands where dbt builds: through the Snowflake sink on the snowflake target
        from orchestration.lib.register import register_sha256
        from orchestration.lib.snowflake_landing import open_snowflake_landing

        with open_snowflake_landing() as sink:
            sink.land_register(
                _load_register(settings), source_path=str(settings.register_path),
                sha256=register_sha256(settings.register_path),
            )
        after_purge, threads = False, []
    else:
        with open_warehouse(settings.duckdb_path) as con:
            land_register_step(settings, con)
            after_purge = retention.rebuild_pending(con) and not args.select  # orchestration/lib/retention.py
            # a full refresh rebuilds every table anyway, and a warehouse no build has written yet has no
            # table to migrate: neither needs the manifest (nor the `dbt parse` it may take)
            if not (args.full_refresh or after_purge) and _has_built_tables(con):
                # the release being built (a `dbt parse` only when target/manifest.json is older than the project)
                migrate_step(con, current_manifest(settings), partial=bool(args.select))
            # a full build over a large history runs on one dbt thread (orchestration/lib/dbt.py)
            threads = duckdb_full_build_thread_args(con, args.full_refresh or after_purge)
    command = ["build", *threads]
    if args.select:
        command += ["--select", *args.select]
    if args.full_refresh or after_purge:
        if after_purge and not args.full_refresh:
            print("a retention purge deleted events since the last build: this build is a full refresh (docs/residency.md)")
        command.append("--full-refresh")
    if args.vars:
        command += ["--vars", args.vars]
    run_dbt(settings, command)
    if uses_snowflake(settings.dbt_target):
        # nothing to publish: Snowflake readers never wait for a writer (orchestration/lib/publish.py)
        print(f"dbt build succeeded against snowflake (database {os.environ.get('SNOWFLAKE_DATABASE', '?')})")
        return EXIT_OK
    print(f"dbt build succeeded against {settings.dbt_target} ({settings.duckdb_path})")
    if after_purge or (args.full_refresh and not args.select):
        with open_warehouse(settings.duckdb_path) as con:
            retention.mark_rebuilt(con)
    publish_after_build(settings)
    _note_if_no_events(settings)
    return EXIT_OK


def _has_built_tables(con) -> bool:
    """Whether a build has written any table yet (the model schemas that hold tables: intermediate, marts, semantic)."""
    return con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema in ('intermediate', 'marts', 'semantic') and table_type = 'BASE TABLE'"
    ).fetchone()[0] > 0


def migrate_step(con, manifest: dict, *, partial: bool = False, out=print):
    """The schema migration before a build (orchestration/lib/migrations.py): drop the incremental tables
    whose columns differ from their model's contract, saying which and why; the build recreates them.
    ``partial`` (a `build --select`): only say so."""
    from orchestration.lib.migrations import apply_migrations, plan_migrations

    plan = plan_migrations(manifest, con)
    if not plan:
        return plan
    if partial:
        out(plan.describe("are NOT migrated by a `build --select` (a dropped table it leaves out would stay missing)")
            + "\nrun `command-center build` without --select to migrate them")
        return plan
    out(plan.describe())
    apply_migrations(con, plan)
    return plan


def cmd_migrate(args, settings: Settings) -> int:
    """Print the schema migration the next build applies (--dry-run), or apply it and build."""
    from orchestration.lib.dbt import current_manifest
    from orchestration.lib.migrations import plan_migrations
    from orchestration.lib.snowflake_landing import uses_snowflake
    from orchestration.lib.warehouse import connect

    if uses_snowflake(settings.dbt_target):
        raise CliError(
            "the schema migration checks DuckDB warehouses only; on Snowflake rebuild an incremental model whose "
            "columns changed with `dbt run --full-refresh --select <model> --target snowflake` (docs/metrics.md)"
        )
    if not args.dry_run:
        return cmd_build(argparse.Namespace(select=None, full_refresh=False, vars=None), settings)
    if not settings.duckdb_path.exists():
        print(f"no warehouse yet at {settings.duckdb_path}: the first build creates every table, nothing to migrate")
        return EXIT_OK
    manifest = current_manifest(settings)
    con = connect(settings.duckdb_path, read_only=True)
    try:
        plan = plan_migrations(manifest, con)
    finally:
        con.close()
    print(plan.describe("would be dropped and rebuilt from scratch by the next `command-center build`"))
    return EXIT_OK


def _note_if_no_events(settings: Settings) -> None:
    """A first build before anything landed succeeds with empty marts: say so, and what to do."""
    from orchestration.lib.warehouse import connect

    con = connect(settings.duckdb_path, read_only=True)
    try:
        events = con.execute("select count(*) from raw.workflow_events").fetchone()[0]
        quarantined = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    finally:
        con.close()
    if events:
        return
    held = f" ({quarantined} quarantined row(s) only; `command-center status` shows why)" if quarantined else ""
    print(
        f"note: the warehouse holds no events yet{held}, so the marts are empty; "
        "land event files with `command-center ingest FILE...` and build again"
    )


def cmd_parse(args, settings: Settings) -> int:
    from orchestration.lib.dbt import run_dbt

    run_dbt(settings, ["parse"])
    return EXIT_OK


def cmd_status(args, settings: Settings) -> int:
    from orchestration.lib.publish import published_status
    from orchestration.lib.reports import status_report
    from orchestration.lib.snowflake_landing import uses_snowflake
    from orchestration.lib.warehouse import WarehouseBusyError

    if not settings.duckdb_path.exists():
        print(f"no warehouse yet at {settings.duckdb_path}; run `command-center ingest FILE...` or `make demo`")
        return EXIT_OK
    try:
        print(status_report(settings))
    except WarehouseBusyError as exc:  # a build or a landing holds it: the published marts still answer
        print(f"warehouse busy: {exc}")
    if not uses_snowflake(settings.dbt_target):
        print(published_status(settings))
    return EXIT_OK


def cmd_dfg(args, settings: Settings) -> int:
    """The directly-follows graph picture of a workflow, from the published marts (orchestration/lib/process_mining)."""
    from orchestration.lib.process_mining.dfg import DfgError, write_dfg
    from orchestration.lib.publish import connect_published

    try:
        week = date.fromisoformat(args.week) if args.week else None
        with connect_published(settings) as con:
            week, edges = write_dfg(con, args.workflow, Path(args.out), week)
    except (DfgError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    print(f"wrote {args.out}: {args.workflow}, week of {week}, {edges} edges")
    return EXIT_OK


def cmd_register(args, settings: Settings) -> int:
    register = _load_register(settings)
    print(
        f"{settings.register_path}: valid (version {register.version}, {len(register.owners)} workflows, "
        f"{len(register.exceptions.classes)} exception classes)"
    )
    from orchestration.lib.residency import blocked_regions, warehouse_description

    blocked = blocked_regions(register)
    print(f"warehouse: {warehouse_description(register)}; rows quarantined as residency_violation on landing: "
          + (f"regions {', '.join(blocked)} (eu_only_processing)" if blocked else "none"))
    return EXIT_OK


def _reset_demo_warehouse(settings: Settings, sample_dir: Path) -> None:
    """The demo starts from an empty warehouse, so running it on another day does not stack a second
    90-day sample on the first. It deletes the file only if every load in it is a demo sample;
    a warehouse holding anything else is left alone and the demo refuses."""
    from orchestration.lib.warehouse import connect

    db = settings.duckdb_path
    if not db.exists():
        return
    con = connect(db, read_only=True)
    try:
        has_ledger = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'load_ledger'"
        ).fetchone()[0]
        paths = [p for (p,) in con.execute("select file_path from raw.load_ledger").fetchall()] if has_ledger else []
    finally:
        con.close()
    sample_root = str(sample_dir.resolve())
    foreign = [p for p in paths if not p.startswith(sample_root)]
    if foreign:
        raise CliError(
            f"the warehouse {db} holds loads that are not demo samples (e.g. {foreign[0]}); the demo will not "
            "touch it. Point COMMAND_CENTER_DUCKDB at another file to run the demo."
        )
    for suffix in ("", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def cmd_report(args, settings: Settings) -> int:
    from orchestration.lib.report import ReportError, parse_week, published_marts_path, write_report

    try:
        report = write_report(published_marts_path(settings), args.out, parse_week(args.week) if args.week else None)
    except ReportError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {args.out}: command-center report for the ISO week of {report.week} "
          f"(marts as of {report.as_of:%Y-%m-%d %H:%M} UTC)")
    for line in report.headlines:
        print(f"  {line}")
    return EXIT_OK


def cmd_demo(args, settings: Settings) -> int:
    from orchestration.lib.dbt import run_dbt
    from orchestration.lib.publish import publish_after_build
    from orchestration.lib.reports import demo_summary

    if settings.salt_is_dev_default:
        print("note: using the development redaction salt; set COMMAND_CENTER_REDACTION_SALT in real deployments")
    end = _end_date(args.end_date)
    sample_dir = settings.landing_dir / "sample"
    _reset_demo_warehouse(settings, sample_dir)
    shutil.rmtree(sample_dir, ignore_errors=True)  # the demo's own folder: samples of earlier demos go too
    sample_dir.mkdir(parents=True, exist_ok=True)
    events = sample_dir / f"events_{end:%Y%m%d}_seed{args.seed}.jsonl"
    # the landing folder's convention: minimal/<workflow_id>/ holds minimal event logs of that workflow
    case_log = sample_dir / "minimal" / "order_to_ship" / f"cases_{end:%Y%m%d}_seed{args.seed}.csv"
    print(f"[1/4] generating {args.days} days of sample events ...")
    gen = argparse.Namespace(
        out=str(events), format="jsonl", days=args.days, runs_per_day=args.runs_per_day, seed=args.seed,
        end_date=end.isoformat(), defect_rate=args.defect_rate, log_format="telemetry",
    )
    cmd_generate(gen, settings)
    gen_min = argparse.Namespace(
        out=str(case_log), format="csv", days=min(args.days, 30), runs_per_day=max(args.runs_per_day // 2, 1),
        seed=args.seed, end_date=end.isoformat(), defect_rate=0.0, log_format="minimal",
    )
    cmd_generate(gen_min, settings)
    # ... and governance/ a governance log (the orchestrator's actions on these runs; docs/governance-log.md)
    gen_gov = argparse.Namespace(**{**vars(gen), "log_format": "governance",
                                    "out": str(sample_dir / "governance" / f"governance_{end:%Y%m%d}_seed{args.seed}.jsonl")})
    cmd_generate(gen_gov, settings)
    print(f"[2/4] landing {sample_dir} into the warehouse ...")
    batch = ingest_paths(settings, [sample_dir])
    if batch.refused:
        raise CliError("sample files were refused; see above")
    print("[3/4] dbt build on DuckDB ...")
    run_dbt(settings, ["build"])
    publish_after_build(settings)
    print("[4/4] summary\n")
    print(demo_summary(settings))
    return EXIT_OK


# ------------------------------------------------------------------------------------------------
# argument parsing
# ------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="command-center",
        description="Automation Command Center warehouse: land workflow event logs, build the marts, report.",
        epilog="Environment: COMMAND_CENTER_DUCKDB (warehouse file), COMMAND_CENTER_REGISTER (register YAML), "
        "COMMAND_CENTER_LANDING_DIR, COMMAND_CENTER_REDACTION_SALT, COMMAND_CENTER_DBT_TARGET (duckdb|snowflake).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    g = sub.add_parser("generate", help="write realistic sample events (same seed, same bytes)")
    g.add_argument("--days", type=int, default=90, help="days of history (default 90)")
    g.add_argument("--runs-per-day", type=int, default=40, help="runs per workflow per day (default 40)")
    g.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    g.add_argument("--out", required=True, help="output file (.jsonl, .csv or .parquet)")
    g.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="default: from the --out extension")
    g.add_argument("--end-date", help="YYYY-MM-DD, exclusive end of the data (default: today, UTC)")
    g.add_argument("--defect-rate", type=float, default=0.005, help="share of defective rows (default 0.005)")
    g.add_argument(
        "--log-format", choices=["telemetry", "minimal", "xes", "governance"], default="telemetry",
        help="telemetry events (default), a minimal case log (case_id, event_name, timestamp, actor, ...), "
        "that journey as an XES log (--out FILE.xes or FILE.xes.gz), or the governance log of the runs the "
        "same arguments generate, with planted violations (docs/governance-log.md)",
    )
    g.set_defaults(func=cmd_generate)

    i = sub.add_parser(
        "ingest", help="land event files (format from the extension: .jsonl, .csv, .parquet, .xes[.gz]); a folder means its files"
    )
    i.add_argument("files", nargs="+", metavar="FILE", help="files, or folders whose landable files are landed")
    i.add_argument(
        "--log-format", choices=["telemetry", "minimal", "xes", "governance"], default="telemetry",
        help="telemetry (default), minimal (a case log), xes (an XES log, .xes or .xes.gz; needs --workflow) "
        "or governance (the orchestrator's action log; docs/governance-log.md)",
    )
    i.add_argument("--workflow", help="minimal logs: the workflow whose runs the cases are")
    i.add_argument("--region", help="minimal logs: region for rows without one (default: the workflow's first)")
    i.add_argument(
        "--map", action="append", metavar="FIELD=COLUMN",
        help="minimal logs: read contract FIELD (case_id, event_name, timestamp, actor, event_id, region) "
        "from COLUMN; repeatable",
    )
    i.add_argument(
        "--timestamp-format", metavar="STRPTIME",
        help="read timestamps written in this strptime layout, e.g. '%%d-%%m-%%Y %%H:%%M:%%S' (ISO 8601 values "
        "are still accepted); default: ISO 8601 only",
    )
    i.add_argument(
        "--timezone", metavar="IANA_ZONE",
        help="timestamps without a UTC offset are local time in this zone, e.g. Europe/Berlin (default: UTC)",
    )
    i.set_defaults(func=cmd_ingest)

    b = sub.add_parser("build", help="refresh the register tables and run `dbt build` on the configured warehouse")
    b.add_argument("--select", nargs="+", help="dbt selection (default: everything)")
    b.add_argument("--full-refresh", action="store_true")
    b.add_argument("--vars", help="dbt --vars YAML, e.g. '{as_of: 2026-11-20}'")
    b.set_defaults(func=cmd_build)

    mg = sub.add_parser(
        "migrate",
        help="the schema migration every build runs first: incremental tables whose columns differ from their "
        "model's contract are dropped and rebuilt from scratch (--dry-run: only print which and why)",
    )
    mg.add_argument("--dry-run", action="store_true", help="print the plan (old vs declared columns); change nothing")
    mg.set_defaults(func=cmd_migrate)

    s = sub.add_parser("status", help="what is loaded, quarantined and built")
    s.set_defaults(func=cmd_status)

    r = sub.add_parser("register", help="validate the governance register and print a summary")
    r.set_defaults(func=cmd_register)

    f = sub.add_parser("dfg", help="render a workflow's directly-follows graph (edge count, p50 time) from the marts")
    f.add_argument("--workflow", required=True, help="the workflow_id")
    f.add_argument("--week", help="YYYY-MM-DD, a day of the ISO week (default: the latest week with edges)")
    f.add_argument("--out", required=True, help="output file: .svg (default format), .png, .pdf or .dot")
    f.set_defaults(func=cmd_dfg)

    p = sub.add_parser("parse", help="run `dbt parse` (writes target/manifest.json for Dagster)")
    p.set_defaults(func=cmd_parse)

    rp = sub.add_parser(
        "report", help="write the weekly executive report (one self-contained HTML file) from the published marts"
    )
    rp.add_argument("--week", metavar="YYYY-MM-DD",
                    help="the Monday of the ISO week to report (default: the latest full week before as_of)")
    rp.add_argument("--out", required=True, metavar="PATH", help="the HTML file to write (replaced atomically)")
    rp.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="generate 90 days of sample events, land them, dbt build, print a summary")
    d.add_argument("--days", type=int, default=90)
    d.add_argument("--runs-per-day", type=int, default=40)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--end-date", help="YYYY-MM-DD (default: today, UTC)")
    d.add_argument("--defect-rate", type=float, default=0.005)
    d.set_defaults(func=cmd_demo)

    from orchestration.lib.operations.backtest import add_backtest_parser

    add_backtest_parser(sub)

    from orchestration.lib.alerting.cli import add_alerts_parser

    add_alerts_parser(sub)

    from orchestration.lib.audit.cli import add_audit_parsers

    add_audit_parsers(sub)

    from orchestration.lib.rbac.cli import add_rbac_parser

    add_rbac_parser(sub)

    from orchestration.lib.retention import add_purge_parser

    add_purge_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from orchestration.lib.dbt import DbtFailed
    from orchestration.lib.landing import LandingError
    from orchestration.lib.publish import NotPublishedError
    from orchestration.lib.register import RegisterError
    from orchestration.lib.warehouse import WarehouseBusyError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = prepare_environment(get_settings())
        return args.func(args, settings)
    except (CliError, ConfigError, LandingError, RegisterError, WarehouseBusyError, DbtFailed, NotPublishedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: say what and how to see more, not a bare traceback
        if os.environ.get("COMMAND_CENTER_DEBUG"):
            raise
        print(
            f"error: unexpected failure in `command-center {args.command}`: {type(exc).__name__}: {exc}\n"
            "(set COMMAND_CENTER_DEBUG=1 to see the traceback; please report it with that output)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
