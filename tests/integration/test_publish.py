"""The published marts (orchestration/lib/publish.py): BI readers open a read-only copy that a build
replaces atomically, so they never hit the warehouse's write lock and never see half a build."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.publish import MART_NAME, PUBLICATION_TABLE, publish_after_build, publish_marts
from orchestration.lib.warehouse import connect
from orchestration.settings import REPO_ROOT, TELEMETRY_OFF, ConfigError, get_settings

END = date(2026, 11, 23)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small warehouse, landed and built once (which publishes it)."""
    tmp = tmp_path_factory.mktemp("publish")
    mp = pytest.MonkeyPatch()
    env = {
        "COMMAND_CENTER_DUCKDB": str(tmp / "wh" / "cc.duckdb"),
        "COMMAND_CENTER_LANDING_DIR": str(tmp / "landing"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
        "COMMAND_CENTER_DBT_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
        **TELEMETRY_OFF,
    }
    for key, value in env.items():
        mp.setenv(key, value)
    mp.delenv("COMMAND_CENTER_PUBLISHED_DUCKDB", raising=False)
    events = tmp / "events.jsonl"
    assert main(["generate", "--days", "14", "--runs-per-day", "5", "--seed", "11", "--end-date", END.isoformat(),
                 "--out", str(events)]) == 0
    assert main(["ingest", str(events)]) == 0
    assert main(["build"]) == 0
    yield {"tmp": tmp, "env": env, "settings": get_settings()}
    mp.undo()


def _warehouse_marts(path: Path) -> dict[str, int]:
    con = connect(path, read_only=True)
    try:
        names = [n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
        return {n: con.execute(f'select count(*) from marts."{n}"').fetchone()[0] for n in names if MART_NAME.match(n)}
    finally:
        con.close()


def _read_published(path: Path) -> tuple[object, dict[str, int]]:
    """(published_at, {mart: rows}) read from the published file; asserts it is complete and consistent:
    exactly the marts the publication lists, each with the row count it lists, one publication time."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        listed = con.execute(f"select table_name, row_count, published_at from {PUBLICATION_TABLE}").fetchall()
        present = {n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        assert present == {n for n, _, _ in listed}
        for name, rows, _ in listed:
            assert con.execute(f'select count(*) from marts."{name}"').fetchone()[0] == rows, name
        stamps = {at for _, _, at in listed}
        assert len(stamps) == 1
        return stamps.pop(), {n: r for n, r, _ in listed}
    finally:
        con.close()


def test_build_publishes_every_mart_of_the_catalog(built):
    settings = built["settings"]
    published = settings.published_duckdb_path
    assert published == settings.duckdb_path.with_name("cc_published.duckdb")
    _, counts = _read_published(published)
    expected = _warehouse_marts(settings.duckdb_path)
    assert counts == expected
    assert {n[:4] for n in counts} == {"dim_", "fct_", "agg_"} and counts["fct_workflow_runs"] > 0
    # no temporary copies are left behind, and the copy is read-only
    assert [p.name for p in published.parent.iterdir() if p.name.startswith(".")] == []
    assert not os.access(published, os.W_OK) or os.geteuid() == 0
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(published), read_only=True).execute("create table marts.x (i int)")
    # only marts are published (and the publication's own table): no raw or intermediate relation,
    # and no column of the quarantine's raw text, which may hold unredacted values
    con = duckdb.connect(str(published), read_only=True)
    schemas = {s for (s,) in con.execute(
        "select distinct table_schema from information_schema.tables where table_catalog = current_database()"
    ).fetchall()}
    columns = {c for (c,) in con.execute("select column_name from information_schema.columns").fetchall()}
    landing = {n for (n,) in con.execute(
        """select table_name from information_schema.tables
           where table_schema = 'marts' and table_name in ('fct_landed_files', 'agg_quarantine_reasons', 'dim_as_of')"""
    ).fetchall()}
    con.close()
    # plus the per-role governed views over those marts and the scopes they filter on (docs/rbac.md)
    assert {s for s in schemas if not s.startswith("governed_")} == {"marts", "publication", "rbac"}
    assert columns and "raw_record" not in columns and "reason_detail" not in columns
    assert landing == {"fct_landed_files", "agg_quarantine_reasons", "dim_as_of"}


def test_reader_during_a_build_always_opens_a_complete_copy(built):
    """A second build runs in a child process while a reader opens the published file in a loop: every
    open succeeds, every copy is complete and consistent, and the reader ends on the new copy."""
    settings = built["settings"]
    published = settings.published_duckdb_path
    before, _ = _read_published(published)
    env = {**os.environ, **built["env"], "DBT_TARGET_PATH": str(built["tmp"] / "target2"),
           "DBT_LOG_PATH": str(built["tmp"] / "logs2")}
    exe = Path(sys.executable).parent / "command-center"
    log = built["tmp"] / "second_build.log"
    with log.open("w") as sink:  # a file, not a pipe: a full pipe would stall the build
        child = subprocess.Popen([str(exe), "build", "--full-refresh"], env=env, stdout=sink, stderr=subprocess.STDOUT)
    seen, reads, reads_during_dbt = set(), 0, 0
    try:
        while child.poll() is None:
            dbt_running = _dbt_child_running(child.pid)  # watched through /proc: no lock is touched
            stamp, _ = _read_published(published)
            seen.add(stamp)
            reads += 1
            reads_during_dbt += dbt_running and _dbt_child_running(child.pid)
            time.sleep(0.05)
        output = log.read_text()
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output
    assert re.search(r"published \d+ marts to ", output), output
    after, counts = _read_published(published)
    assert reads > 20 and reads_during_dbt > 20  # the reads overlapped the dbt build that held the warehouse
    assert after > before and seen <= {before, after}
    assert counts == _warehouse_marts(settings.duckdb_path)


def _dbt_child_running(pid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"dbt" in (entry / "cmdline").read_bytes():
                return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_build_leaves_the_published_file_untouched(built, capsys):
    published = built["settings"].published_duckdb_path
    digest, stat = _sha256(published), published.stat()
    # a bad as_of fails every model that reads it, after others were rebuilt: dbt exits non-zero
    assert main(["build", "--vars", "{as_of: 'not-a-date'}"]) == 1
    assert "error: dbt build failed" in capsys.readouterr().err
    assert _sha256(published) == digest
    assert (published.stat().st_ino, published.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_publish_replaces_atomically_and_cleans_dead_leftovers(built, tmp_path):
    warehouse = built["settings"].duckdb_path
    with pytest.raises(ConfigError, match="name it anything but"):  # it would shadow the marts schema
        publish_marts(warehouse, tmp_path / "marts.duckdb")
    target = tmp_path / "bi" / "published.duckdb"
    # a copy left by a publisher that died (a pid that does not exist) is removed
    dead = tmp_path / "bi" / f".{target.name}.999999999.abcd.tmp"
    dead.parent.mkdir(parents=True)
    dead.write_bytes(b"half a file")
    first = publish_marts(warehouse, target)
    assert not dead.exists()
    reader = duckdb.connect(str(target), read_only=True)  # an open reader keeps its copy
    second = publish_marts(warehouse, target)
    assert second.published_at > first.published_at
    assert reader.execute(f"select max(published_at) from {PUBLICATION_TABLE}").fetchone()[0] == first.published_at
    reader.close()
    assert _read_published(target)[0] == second.published_at


def test_published_path_is_configurable(built, tmp_path, monkeypatch):
    target = tmp_path / "elsewhere" / "bi.duckdb"
    monkeypatch.setenv("COMMAND_CENTER_PUBLISHED_DUCKDB", str(target))
    settings = get_settings()
    assert settings.published_duckdb_path == target
    assert publish_after_build(settings, out=lambda _m: None) is not None
    assert _read_published(target)[1] == _warehouse_marts(settings.duckdb_path)


def test_snowflake_target_publishes_nothing(built, tmp_path, monkeypatch):
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "snowflake")
    monkeypatch.setenv("COMMAND_CENTER_PUBLISHED_DUCKDB", str(tmp_path / "never.duckdb"))
    assert publish_after_build(get_settings(), out=lambda _m: None) is None
    assert not (tmp_path / "never.duckdb").exists()


def test_demo_summary_reads_the_published_file(built, capsys):
    """The demo summary opens the published copy: it works while another process holds the warehouse."""
    from orchestration.lib.reports import demo_summary

    settings = built["settings"]
    holder = connect(settings.duckdb_path)  # a writer holds the warehouse (in this process: same lock)
    try:
        child = subprocess.run(
            [sys.executable, "-c", "from orchestration.lib.reports import demo_summary;"
             "from orchestration.settings import get_settings; print(demo_summary(get_settings()))"],
            env={**os.environ, **built["env"]}, capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        holder.close()
    assert child.returncode == 0, child.stderr
    assert "Last full ISO week" in child.stdout
    assert demo_summary(settings) == child.stdout.rstrip("\n")


def test_status_names_the_published_copy_even_while_the_warehouse_is_busy(built):
    settings = built["settings"]
    holder = connect(settings.duckdb_path)  # a writer holds the warehouse
    try:
        proc = subprocess.run([str(Path(sys.executable).parent / "command-center"), "status"],
                              env={**os.environ, **built["env"]}, capture_output=True, text=True, timeout=120,
                              check=False)
    finally:
        holder.close()
    assert proc.returncode == 0, proc.stderr
    assert "warehouse busy:" in proc.stdout
    assert f"published marts (what BI reads, read-only): {settings.published_duckdb_path}" in proc.stdout


def test_a_snowflake_build_names_snowflake_not_the_duckdb_file(built, tmp_path, monkeypatch, capsys):
    """cmd_build on the snowflake target (dbt and the Snowflake sink stubbed): it reports the Snowflake
    database, not the DuckDB path, and publishes nothing."""
    from contextlib import contextmanager

    import orchestration.lib.dbt as dbt_module
    import orchestration.lib.snowflake_landing as snowflake_landing

    class Sink:
        def land_register(self, *args, **kwargs):
            pass

    @contextmanager
    def fake_sink():
        yield Sink()

    monkeypatch.setattr(snowflake_landing, "open_snowflake_landing", fake_sink)
    monkeypatch.setattr(dbt_module, "run_dbt", lambda settings, command: None)
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "snowflake")
    monkeypatch.setenv("SNOWFLAKE_DATABASE", "CC_TEST")
    monkeypatch.setenv("COMMAND_CENTER_PUBLISHED_DUCKDB", str(tmp_path / "never.duckdb"))
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "dbt build succeeded against snowflake (database CC_TEST)" in out
    assert str(built["settings"].duckdb_path) not in out and "published" not in out
    assert not (tmp_path / "never.duckdb").exists()
