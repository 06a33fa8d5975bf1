"""Settings: one environment variable names the DuckDB file; DAGSTER_HOME config is written safely."""
from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.settings import REPO_ROOT, get_settings, prepare_environment


def test_duckdb_path_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("COMMAND_CENTER_DUCKDB", raising=False)
    assert get_settings().duckdb_path == REPO_ROOT / "warehouse" / "command_center.duckdb"
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "x.duckdb"))
    assert get_settings().duckdb_path == tmp_path / "x.duckdb"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", "rel/y.duckdb")
    assert get_settings().duckdb_path == tmp_path / "rel" / "y.duckdb"


def test_prepare_environment_turns_telemetry_off_and_limits_writers(monkeypatch, tmp_path):
    home = tmp_path / "dh"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "w" / "cc.duckdb"))
    for var in ("DBT_SEND_ANONYMOUS_USAGE_STATS", "DO_NOT_TRACK", "DAGSTER_DISABLE_TELEMETRY", "GX_ANALYTICS_ENABLED"):
        monkeypatch.delenv(var, raising=False)
    prepare_environment()
    import os

    assert os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"
    assert os.environ["DO_NOT_TRACK"] == "1"
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert (tmp_path / "w").is_dir()


def test_dbt_files_switch_telemetry_off():
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False
    profiles = yaml.safe_load((REPO_ROOT / "profiles" / "profiles.yml").read_text())
    assert "COMMAND_CENTER_DUCKDB" in profiles["command_center"]["outputs"]["duckdb"]["path"]
    assert Path(REPO_ROOT / ".gitignore").read_text().count("warehouse/") == 1
