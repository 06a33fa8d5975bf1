"""Shared pytest fixtures: one environment helper, one warehouse built once per session, the markers.

- ``cc_env``: the one way to point a test (or a subprocess) at an isolated warehouse. Use
  ``cc_env.apply(monkeypatch, root)`` in a fixture of any scope (pass a ``pytest.MonkeyPatch()`` in
  module- or session-scoped fixtures) and ``cc_env.environ(root)`` for a subprocess' ``env``.
- ``command_center_env``: ``cc_env.apply`` on ``tmp_path`` for one test; returns the settings.
- ``shared_warehouse``: generated events landed and built once per session, for tests that only read
  it. A test that writes must use ``shared_warehouse_copy`` (its own copy of the DuckDB file); the
  session ends with an error if the shared file changed.
- Every module under tests/integration is marked ``integration``: ``make test-fast`` deselects them.
- Parallel runs (``make test`` runs pytest-xdist workers, ``-n 2 --dist loadfile``): each worker's session
  gets its own dbt target and log folders (DBT_TARGET_PATH, DBT_LOG_PATH) and DAGSTER_HOME under its own
  temporary folder, so no two workers (nor a test and a developer) write the repository's target/, logs/
  or .dagster_home; ``shared_warehouse`` is built once per run, by whichever worker needs it first.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from orchestration.settings import DAGSTER_YAML, REPO_ROOT, TELEMETRY_OFF, Settings, get_settings

INTEGRATION_DIR = Path(__file__).parent / "integration"

# ------------------------------------------------------------------------------------------------
# markers
# ------------------------------------------------------------------------------------------------


#: The slowest modules (``--durations`` on one worker), slowest first. Under pytest-xdist (``make test``:
#: ``--dist loadfile --no-loadscope-reorder``, a whole module per worker) they are handed out first and
#: every other module keeps its place after them, so no long module starts last while the other worker
#: idles. A module that becomes slow belongs here; a stale order costs minutes, never a result.
SLOWEST_FIRST = (
    "integration/test_first_run.py",
    "integration/test_dagster_definitions.py",
    "integration/test_snowflake.py",
    "integration/test_operations_now.py",
    "integration/test_publish.py",
    "integration/test_xes_landing.py",
    "integration/test_dagster_schedules.py",
    "integration/test_slo_snapshot.py",
    "integration/test_hostile_landing.py",
    "integration/test_incremental.py",
    "integration/test_migrations.py",
    "integration/test_register_drives_marts.py",
    "integration/test_minimal_logs.py",
    "integration/test_bench_smoke.py",
    "integration/test_process_mining.py",
    "integration/test_log_completeness_checks.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test under tests/integration ``integration`` (by path: new modules need nothing);
    under pytest-xdist, move the SLOWEST_FIRST modules to the front (every worker sorts alike)."""
    for item in items:
        if INTEGRATION_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
        items.sort(key=lambda item: rank.get(f"{item.path.parent.name}/{item.path.name}", len(rank)))  # stable


# ------------------------------------------------------------------------------------------------
# the environment
# ------------------------------------------------------------------------------------------------


class CommandCenterEnv:
    """Environment variables of an isolated warehouse under ``root``.

    The warehouse (``root/warehouse/command_center.duckdb`` unless ``duckdb`` is given), the landing
    folder and DAGSTER_HOME (with telemetry off) are under ``root``; the register, dbt project and
    profiles stay the repository's own (a developer's DBT_PROFILES_DIR, COMMAND_CENTER_REGISTER or
    COMMAND_CENTER_DBT_TARGET must not leak into the tests); telemetry is off.
    """

    #: variables a developer may have set that must not reach a test
    UNSET = ("COMMAND_CENTER_REGISTER", "DAGSTER_IS_DEV_CLI")

    #: this session's (this xdist worker's) own dbt target and log folders, set by `session_tool_paths`;
    #: `environ` passes them on to subprocesses although it drops the developer's DBT_ variables
    dbt_paths: Mapping[str, str] = {}

    def variables(self, root: Path, *, duckdb: Path | None = None) -> dict[str, str]:
        """The variables, after creating root/landing and root/dagster_home/dagster.yaml."""
        root = Path(root)
        (root / "landing").mkdir(parents=True, exist_ok=True)
        (root / "dagster_home").mkdir(parents=True, exist_ok=True)
        (root / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML)
        return {
            "COMMAND_CENTER_DUCKDB": str(duckdb or root / "warehouse" / "command_center.duckdb"),
            "COMMAND_CENTER_LANDING_DIR": str(root / "landing"),
            "DAGSTER_HOME": str(root / "dagster_home"),
            "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
            "COMMAND_CENTER_DBT_TARGET": "duckdb",
            **TELEMETRY_OFF,
        }

    def apply(self, mp: pytest.MonkeyPatch, root: Path, *, duckdb: Path | None = None) -> Settings:
        """Set the variables through ``mp`` (undone with it); returns the resolved settings."""
        for key, value in self.variables(root, duckdb=duckdb).items():
            mp.setenv(key, value)
        for key in self.UNSET:
            mp.delenv(key, raising=False)
        return get_settings()

    def environ(self, root: Path, *, duckdb: Path | None = None, drop_prefixes: tuple[str, ...] = ("DBT_",),
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A subprocess environment: this process' minus ``drop_prefixes`` and UNSET, plus the variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes) and k not in self.UNSET}
        env.update(self.dbt_paths)
        env.update(self.variables(root, duckdb=duckdb))
        env.update(extra or {})
        return env


@pytest.fixture(scope="session")
def cc_env() -> CommandCenterEnv:
    return CommandCenterEnv()


@pytest.fixture(scope="session", autouse=True)
def session_tool_paths(tmp_path_factory, cc_env) -> Iterator[dict[str, str]]:
    """DBT_TARGET_PATH, DBT_LOG_PATH and DAGSTER_HOME of this session (of this xdist worker), under its
    own temporary folder, set for the whole session: dbt run by a test that names no target path of its
    own (the CLI's `build`, `run_dbt`) never writes the repository's target/ or logs/, nor a folder
    another worker writes at the same time. A test or fixture still sets its own where it needs to."""
    root = tmp_path_factory.mktemp("tool_paths")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    paths = {"DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs"), "DAGSTER_HOME": str(home)}
    mp = pytest.MonkeyPatch()
    for key, value in paths.items():
        mp.setenv(key, value)
    cc_env.dbt_paths = {key: paths[key] for key in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    try:
        yield paths
    finally:
        cc_env.dbt_paths = {}
        mp.undo()


@pytest.fixture
def command_center_env(tmp_path, monkeypatch, cc_env) -> Settings:
    """Point the warehouse, landing folder and DAGSTER_HOME at tmp_path; telemetry off.

    The register, dbt project and profiles stay the repository's own. Returns the resolved settings.
    """
    return cc_env.apply(monkeypatch, tmp_path)


# ------------------------------------------------------------------------------------------------
# one warehouse per session, for read-only tests
# ------------------------------------------------------------------------------------------------

#: the shared warehouse's data: three full ISO weeks of telemetry (2026-11-02 .. 2026-11-22) plus a
#: minimal event log of the unregistered order_to_ship workflow
SHARED_END = date(2026, 11, 23)
SHARED_TELEMETRY = ("--days", "21", "--runs-per-day", "6", "--seed", "3")
SHARED_MINIMAL = ("--log-format", "minimal", "--days", "5", "--runs-per-day", "4", "--seed", "3")


@dataclass(frozen=True)
class SharedWarehouse:
    db: Path  # the built DuckDB file: open it read_only=True
    events: Path  # the telemetry file landed (Parquet)
    cases: Path  # the minimal log landed (CSV, workflow order_to_ship, region us-east-1)
    end_date: date


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_shared_warehouse(root: Path, cc_env: CommandCenterEnv) -> SharedWarehouse:
    """`command-center generate / ingest / build` of the shared data into ``root``."""
    from orchestration.cli import main

    mp = pytest.MonkeyPatch()
    try:
        settings = cc_env.apply(mp, root)
        end = SHARED_END.isoformat()
        events, cases = root / "events.parquet", root / "cases.csv"
        assert main(["generate", *SHARED_TELEMETRY, "--end-date", end, "--out", str(events)]) == 0
        assert main(["ingest", str(events)]) == 0
        assert main(["generate", *SHARED_MINIMAL, "--end-date", end, "--out", str(cases)]) == 0
        assert main(["ingest", "--log-format", "minimal", "--workflow", "order_to_ship", "--region", "us-east-1",
                     str(cases)]) == 0
        assert main(["build"]) == 0
    finally:
        mp.undo()
    # the build's manifests, for the workers that did not build (test_rbac and test_semantic_layer read
    # "the manifest the session's build wrote" from DBT_TARGET_PATH)
    (root / "dbt_artifacts").mkdir()
    target = Path(os.environ.get("DBT_TARGET_PATH") or REPO_ROOT / "target")
    for name in ("manifest.json", "semantic_manifest.json"):
        if (target / name).is_file():
            shutil.copy2(target / name, root / "dbt_artifacts" / name)
    return SharedWarehouse(settings.duckdb_path, events, cases, SHARED_END)


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """An exclusive lock on the file ``lock`` across processes (released on close, even if one dies)."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def shared_warehouse(tmp_path_factory, cc_env) -> Iterator[SharedWarehouse]:
    """Generated events landed and built (`command-center generate / ingest / build`) once per session.

    Read it only (``connect(db, read_only=True)``, or the CLI's read-only ``status``); a test that
    lands, builds or deletes uses ``shared_warehouse_copy``. Teardown fails if the file changed.
    Under pytest-xdist it is built once per run: the first worker that needs it builds it in the run's
    temporary folder (the parent of every worker's own) while holding a lock; the others wait for the
    lock and read the same files (DuckDB allows any number of read-only processes).
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        common = tmp_path_factory.getbasetemp().parent  # each worker's basetemp is <run's>/popen-gwN
        root, done = common / "shared_warehouse", common / "shared_warehouse.json"
        with _exclusive(common / "shared_warehouse.lock"):
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)  # a worker that failed to build left it half-made
                root.mkdir()
                built = _build_shared_warehouse(root, cc_env)
                done.write_text(json.dumps({"db": str(built.db), "events": str(built.events),
                                            "cases": str(built.cases), "digest": _sha256(built.db)}))
        info = json.loads(done.read_text())
        target = Path(os.environ.get("DBT_TARGET_PATH") or REPO_ROOT / "target")  # this worker's (session_tool_paths)
        target.mkdir(parents=True, exist_ok=True)
        for artifact in (root / "dbt_artifacts").glob("*.json"):
            if not (target / artifact.name).exists():  # never over a newer one this worker's dbt wrote
                shutil.copy2(artifact, target / artifact.name)
        shared = SharedWarehouse(Path(info["db"]), Path(info["events"]), Path(info["cases"]), SHARED_END)
        digest = info["digest"]
    else:
        shared = _build_shared_warehouse(tmp_path_factory.mktemp("shared_warehouse"), cc_env)
        digest = _sha256(shared.db)
    yield shared
    assert _sha256(shared.db) == digest, "a test wrote to the shared warehouse: use shared_warehouse_copy"


@pytest.fixture
def shared_warehouse_copy(shared_warehouse, tmp_path, monkeypatch, cc_env) -> Settings:
    """A private copy of the shared warehouse, with the environment pointing at it (write freely)."""
    db = tmp_path / "warehouse" / "command_center.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared_warehouse.db, db)
    return cc_env.apply(monkeypatch, tmp_path, duckdb=db)
