"""Shared pytest fixtures: one environment helper, one warehouse built once per session, the markers.

- ``cc_env``: the one way to point a test (or a subprocess) at an isolated warehouse. Use
  ``cc_env.apply(monkeypatch, root)`` in a fixture of any scope (pass a ``pytest.MonkeyPatch()`` in
  module- or session-scoped fixtures) and ``cc_env.environ(root)`` for a subprocess' ``env``.
- ``command_center_env``: ``cc_env.apply`` on ``tmp_path`` for one test; returns the settings.
- ``shared_warehouse``: generated events landed and built once per session, for tests that only read
  it. A test that writes must use ``shared_warehouse_copy`` (its own copy of the DuckDB file); the
  session ends with an error if the shared file changed.
- Every module under tests/integration is marked ``integration``: ``make test-fast`` deselects them.
"""
from __future__ import annotations

import hashlib
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


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test under tests/integration ``integration`` (by path: new modules need nothing)."""
    for item in items:
        if INTEGRATION_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


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
        env.update(self.variables(root, duckdb=duckdb))
        env.update(extra or {})
        return env


@pytest.fixture(scope="session")
def cc_env() -> CommandCenterEnv:
    return CommandCenterEnv()


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


@pytest.fixture(scope="session")
def shared_warehouse(tmp_path_factory, cc_env) -> Iterator[SharedWarehouse]:
    """Generated events landed and built (`command-center generate / ingest / build`) once per session.

    Read it only (``connect(db, read_only=True)``, or the CLI's read-only ``status``); a test that
    lands, builds or deletes uses ``shared_warehouse_copy``. Teardown fails if the file changed.
    """
    from orchestration.cli import main

    root = tmp_path_factory.mktemp("shared_warehouse")
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
    shared = SharedWarehouse(settings.duckdb_path, events, cases, SHARED_END)
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
