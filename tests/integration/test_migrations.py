"""The schema migration on real DuckDB files and the real dbt project: a warehouse built by an older
release (simulated by altering its incremental tables) takes the nightly path, `command-center build`,
which migrates exactly the tables whose columns differ, in the same single dbt invocation, and ends equal
to a from-scratch build of the same data (EXCEPT ALL both ways, build-state ``_`` columns aside).

Two warehouses land the same events with the same ``loaded_at``: ``scratch`` lands the base and the new
day and is built once from scratch (the reference); ``nightly`` lands the base, is built, is built again
with nothing new (up to date: nothing migrated, one dbt invocation), is then turned into an older
release's warehouse, lands the new day and takes the nightly path.

The older release: ``int_runs_summarized`` lacks ``max_loaded_at`` (a build-state column added later)
and ``fct_workflow_runs`` has ``region`` under another name (a rename). Both are contracted incremental
models: the plan names exactly them. ``int_runs_summarized`` has ~28 incremental descendants; none is
rebuilt, and all of them must come out equal to the reference - the evidence that a rebuilt upstream is
seen correctly by its incremental descendants (orchestration/lib/migrations.py, docstring). The older
release's warehouse also lacks ``int_alert_rule_detections`` altogether, as the migration leaves an
upstream whose columns changed: ``fct_detected_exceptions`` is the one descendant that reads an
upstream's build state (``_loaded_through``), so it is exercised on a rebuilt upstream too, with new loads
(test 1) and with nothing new landed (test 2).
"""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest

import orchestration.lib.dbt as lib_dbt
from orchestration.cli import main
from orchestration.lib.dbt import run_dbt, target_dir
from orchestration.lib.generator import generate_events, write_events
from orchestration.lib.landing import land_file
from orchestration.lib.migrations import plan_migrations
from orchestration.lib.register import land_register, load_register, register_sha256
from orchestration.lib.warehouse import connect, open_warehouse
from orchestration.settings import Settings, get_settings

END = date(2026, 11, 23)  # the generated events fill the 14 days before it
CUTOFF = datetime(2026, 11, 22, tzinfo=UTC)  # the base holds the events before it, the new day the rest
BASE_LOADED_AT = datetime(2026, 11, 22, 6, tzinfo=UTC)
DAY_LOADED_AT = datetime(2026, 11, 23, 6, tzinfo=UTC)
#: history-keeping (full_refresh false, build-time snapshotted_at) and the nightly watermark's own table
NOT_COMPARED = {("marts", "fct_slo_weekly_snapshot"), ("intermediate", "build_checked_through")}
OLD_RELEASE = (
    "alter table intermediate.int_runs_summarized drop column max_loaded_at",
    "alter table marts.fct_workflow_runs rename column region to region_code",
    "drop table intermediate.int_alert_rule_detections",
)
MIGRATED = ["fct_workflow_runs", "int_runs_summarized"]


def _ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _land(s: Settings, path: Path, now: datetime) -> None:
    register = load_register(s.register_path)
    with open_warehouse(s.duckdb_path) as con:
        land_register(con, register, source_path=str(s.register_path), sha256=register_sha256(s.register_path))
        assert land_file(con, path, register=register, salt=s.redaction_salt, now=now).rows_quarantined == 0


def _use(mp: pytest.MonkeyPatch, db: Path) -> Settings:
    mp.setenv("COMMAND_CENTER_DUCKDB", str(db))
    return get_settings()


class DbtCalls:
    """Counts the dbt child processes (orchestration.lib.dbt.run_child) while running them for real."""

    def __init__(self, mp: pytest.MonkeyPatch):
        self.commands: list[str] = []
        real = lib_dbt.run_child

        def counting(args, *, cwd):
            self.commands.append(args[1])  # the dbt command: build, run, parse, ...
            return real(args, cwd=cwd)

        mp.setattr(lib_dbt, "run_child", counting)


def differences(db: Path, reference: Path) -> list[str]:
    """Every base table of marts and intermediate (but NOT_COMPARED) in ``db`` EXCEPT ALL the same table in
    ``reference``, both ways; columns starting with "_" (build state) and load_id (random per landing) left
    out, doubles rounded to 1e-6 (parallel sums are not bit-for-bit reproducible)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(f"attach '{reference}' as ref (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database() "
            "and table_type = 'BASE TABLE' and table_schema in ('marts', 'intermediate') order by 1, 2").fetchall()
        ref_tables = set(con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = 'ref' "
            "and table_type = 'BASE TABLE' and table_schema in ('marts', 'intermediate')").fetchall())
        problems = [f"{s}.{t}: only in one warehouse" for s, t in sorted(set(tables) ^ ref_tables)
                    if (s, t) not in NOT_COMPARED]
        compared = 0
        for schema, table in tables:
            if (schema, table) in NOT_COMPARED or (schema, table) not in ref_tables:
                continue
            columns = con.execute(
                "select column_name, data_type from information_schema.columns where table_catalog = current_database() "
                "and table_schema = ? and table_name = ? order by ordinal_position", [schema, table]).fetchall()
            select = ", ".join(
                f'round("{c}", 6)' if t in ("DOUBLE", "FLOAT") else f'"{c}"'
                for c, t in columns if not c.startswith("_") and c != "load_id"
            )
            for a, b in ((f'"{schema}"."{table}"', f'ref."{schema}"."{table}"'),
                         (f'ref."{schema}"."{table}"', f'"{schema}"."{table}"')):
                extra = con.execute(f"select count(*) from (select {select} from {a} except all select {select} from {b})"
                                    ).fetchone()[0]
                if extra:
                    problems.append(f"{schema}.{table}: {extra} row(s) of {a} not in {b}")
            compared += 1
        assert compared >= 40, f"only {compared} tables compared"
    finally:
        con.close()
    return problems


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, cc_env):
    tmp = tmp_path_factory.mktemp("migrations")
    mp = pytest.MonkeyPatch()
    s = cc_env.apply(mp, tmp)
    mp.setenv("DBT_TARGET_PATH", str(tmp / "target"))
    mp.setenv("DBT_LOG_PATH", str(tmp / "logs"))
    mp.setenv("COMMAND_CENTER_FRESHNESS_AS_OF", f"{END.isoformat()} 06:00:00")  # the clock-dependent check
    table = generate_events(days=14, runs_per_day=3, seed=11, end_date=END, defect_rate=0.0,
                            register=load_register(s.register_path))
    rows = table.to_pylist()
    base_file, day_file = tmp / "base.jsonl", tmp / "day.jsonl"
    write_events(pa.Table.from_pylist([r for r in rows if _ts(r["event_ts"]) < CUTOFF], schema=table.schema),
                 base_file, "jsonl")
    write_events(pa.Table.from_pylist([r for r in rows if _ts(r["event_ts"]) >= CUTOFF], schema=table.schema),
                 day_file, "jsonl")

    scratch = _use(mp, tmp / "scratch" / "command_center.duckdb")
    _land(scratch, base_file, BASE_LOADED_AT)
    _land(scratch, day_file, DAY_LOADED_AT)
    run_dbt(scratch, ["run"])  # the reference: base + day, built from scratch

    nightly = _use(mp, tmp / "nightly" / "command_center.duckdb")
    _land(nightly, base_file, BASE_LOADED_AT)
    run_dbt(nightly, ["run"])
    yield SimpleNamespace(mp=mp, tmp=tmp, scratch=scratch, nightly=nightly, day_file=day_file)
    mp.undo()


def test_an_up_to_date_warehouse_migrates_nothing(warehouses, capsys):
    """`command-center build` on a warehouse this release built: no table dropped, one dbt invocation."""
    s = _use(warehouses.mp, warehouses.nightly.duckdb_path)
    mp = pytest.MonkeyPatch()
    try:
        calls = DbtCalls(mp)
        assert main(["build"]) == 0
    finally:
        mp.undo()
    out = capsys.readouterr().out
    assert calls.commands == ["build"], calls.commands
    assert "schema migration" not in out
    assert main(["migrate", "--dry-run"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out
    with open_warehouse(s.duckdb_path, read_only=True) as con:
        assert not plan_migrations(lib_dbt.current_manifest(s), con)


def test_an_older_release_warehouse_is_migrated_and_equals_a_full_build(warehouses, capsys):
    """The older release's warehouse lands a new day and takes the nightly path: exactly the two changed
    tables are migrated (dropped, and rebuilt by the one dbt build), and every table equals the reference."""
    s = _use(warehouses.mp, warehouses.nightly.duckdb_path)
    con = connect(s.duckdb_path)
    try:
        for statement in OLD_RELEASE:
            con.execute(statement)
    finally:
        con.close()
    capsys.readouterr()

    assert main(["migrate", "--dry-run"]) == 0  # the plan, and nothing changed
    plan_text = capsys.readouterr().out
    assert "schema migration: 2 incremental table(s)" in plan_text, plan_text
    assert "intermediate.int_runs_summarized: new column(s) max_loaded_at" in plan_text
    assert "marts.fct_workflow_runs: new column(s) region; column(s) no longer declared region_code" in plan_text
    assert "region_code" in plan_text.split("marts.fct_workflow_runs", 1)[1].split("declared columns")[0]
    with open_warehouse(s.duckdb_path, read_only=True) as con:
        plan = plan_migrations(lib_dbt.current_manifest(s), con)
    assert sorted(plan.models) == MIGRATED

    _land(s, warehouses.day_file, DAY_LOADED_AT)
    mp = pytest.MonkeyPatch()
    try:
        calls = DbtCalls(mp)
        assert main(["build"]) == 0
    finally:
        mp.undo()
    out = capsys.readouterr().out
    assert calls.commands == ["build"], calls.commands  # no extra dbt run
    assert "schema migration: 2 incremental table(s) differ" in out, out
    assert "marts.fct_workflow_runs:" in out and "intermediate.int_runs_summarized:" in out
    with open_warehouse(s.duckdb_path, read_only=True) as con:
        assert not plan_migrations(lib_dbt.current_manifest(s), con)  # migrated
        # the descendants were not rebuilt: their rows from the base build kept that build's mark
        (kept,) = con.execute("select count(*) from marts.fct_exceptions where _loaded_through < ?",
                              [DAY_LOADED_AT.replace(tzinfo=None)]).fetchone()
        assert kept > 0
    problems = differences(s.duckdb_path, warehouses.scratch.duckdb_path)
    assert not problems, "\n".join(problems)


def test_a_migration_with_nothing_new_landed_equals_a_full_build(warehouses, capsys):
    """The reference warehouse, turned into an older release's (fct_exceptions without a build-state column,
    no int_alert_rule_detections), built with nothing new landed: fct_exceptions migrated, same tables."""
    copy = warehouses.tmp / "no_new_loads" / "command_center.duckdb"
    copy.parent.mkdir()
    shutil.copy(warehouses.scratch.duckdb_path, copy)
    _use(warehouses.mp, copy)
    con = connect(copy)
    try:
        con.execute("alter table marts.fct_exceptions drop column _register_sha256")
        con.execute("drop table intermediate.int_alert_rule_detections")
    finally:
        con.close()
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "schema migration: 1 incremental table(s) differ" in out and "marts.fct_exceptions: new column(s) _register_sha256" in out
    problems = differences(copy, warehouses.scratch.duckdb_path)
    assert not problems, "\n".join(problems)


def test_the_dagster_step_migrates_only_the_models_its_run_selects(warehouses, tmp_path):
    """orchestration.defs.dbt.migrate_schema on a small warehouse and the real manifest: a stale table the
    run selects is dropped and logged; one it does not select is reported and kept."""
    import dagster as dg

    from orchestration.defs.dbt import CommandCenterDbtTranslator, migrate_schema
    from orchestration.defs.resources import WarehouseResource

    manifest = lib_dbt.current_manifest(warehouses.nightly)
    assert (target_dir(warehouses.nightly) / "manifest.json").exists()
    db = tmp_path / "small.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute("create table marts.fct_workflow_runs (run_key varchar)")
    con.execute("create table marts.fct_exceptions (exception_key varchar)")
    con.close()
    logged: list[str] = []
    log = SimpleNamespace(warning=logged.append, info=logged.append)
    context = SimpleNamespace(log=log, selected_asset_keys={dg.AssetKey(["marts", "fct_workflow_runs"])})
    dropped = migrate_schema(context, WarehouseResource(duckdb_path=str(db)), manifest, CommandCenterDbtTranslator())
    assert dropped == ["marts.fct_workflow_runs"]
    assert any("marts.fct_exceptions differ" in m and "not migrated" in m for m in logged), logged
    assert any("marts.fct_workflow_runs: new column(s)" in m for m in logged), logged
    con = duckdb.connect(str(db), read_only=True)
    try:
        left = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    finally:
        con.close()
    assert left == {"fct_exceptions"}
