"""Shared pytest fixtures. Keep this small; test modules own their specific fixtures."""
from __future__ import annotations

import pytest

from orchestration.settings import DAGSTER_YAML, REPO_ROOT, TELEMETRY_OFF, Settings, get_settings


@pytest.fixture
def command_center_env(tmp_path, monkeypatch) -> Settings:
    """Point the warehouse, landing folder and DAGSTER_HOME at tmp_path; telemetry off.

    The register, dbt project and profiles stay the repository's own (a developer's DBT_PROFILES_DIR
    or COMMAND_CENTER_DBT_TARGET must not leak into the tests). Returns the resolved settings.
    """
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "warehouse" / "command_center.duckdb"))
    monkeypatch.setenv("COMMAND_CENTER_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(REPO_ROOT / "profiles"))
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "duckdb")
    monkeypatch.delenv("COMMAND_CENTER_REGISTER", raising=False)
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    for key, value in TELEMETRY_OFF.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "landing").mkdir()
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML)
    return get_settings()
