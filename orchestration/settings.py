"""Paths and environment, resolved once, in one place.

Every component (dbt through profiles/profiles.yml, Dagster resources, the CLI, the tests) reads the
warehouse location from ``COMMAND_CENTER_DUCKDB``; nothing else names the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Development default for the redaction salt. The README warns: set COMMAND_CENTER_REDACTION_SALT
#: to a secret in any real deployment, or hashes of low-entropy values (emails) can be brute-forced.
DEV_REDACTION_SALT = "command-center-dev-salt-change-me"

#: The instance config written to a new DAGSTER_HOME: no telemetry, and every concurrency pool
#: (the warehouse writers share pool "command_center_duckdb") limited to one step at a time, because
#: DuckDB allows one writer per file.
DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""

TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "DAGSTER_DISABLE_TELEMETRY": "1",
}


def disable_telemetry() -> None:
    """Switch off dbt, Dagster and great-expectations usage telemetry for this process and children."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)


def _path_from_env(var: str, default: Path) -> Path:
    raw = os.environ.get(var)
    if not raw:
        return default
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path)


class ConfigError(ValueError):
    """A setting (an environment variable) that cannot work as given; the message names it."""


#: The environment variable naming the published, read-only copy of the marts (orchestration/lib/publish.py).
PUBLISHED_DUCKDB_ENV = "COMMAND_CENTER_PUBLISHED_DUCKDB"


@dataclass(frozen=True)
class Settings:
    repo_root: Path
    duckdb_path: Path
    register_path: Path
    landing_dir: Path
    dagster_home: Path
    dbt_project_dir: Path
    dbt_profiles_dir: Path
    dbt_target: str
    redaction_salt: str
    #: BI tools, the demo summary and `status` read the marts from here (a copy published after each
    #: successful DuckDB build), never from the warehouse file a writer may be holding.
    published_duckdb_path: Path | None = None

    @property
    def salt_is_dev_default(self) -> bool:
        return self.redaction_salt == DEV_REDACTION_SALT


def get_settings() -> Settings:
    """Resolve settings from the environment (call again after changing os.environ, e.g. in tests)."""
    root = REPO_ROOT
    return Settings(
        repo_root=root,
        duckdb_path=_path_from_env("COMMAND_CENTER_DUCKDB", root / "warehouse" / "command_center.duckdb"),
        register_path=_path_from_env("COMMAND_CENTER_REGISTER", root / "command_center.yml"),
        landing_dir=_path_from_env("COMMAND_CENTER_LANDING_DIR", root / "landing"),
        dagster_home=_path_from_env("DAGSTER_HOME", root / ".dagster_home"),
        dbt_project_dir=root,
        dbt_profiles_dir=_path_from_env("DBT_PROFILES_DIR", root / "profiles"),
        dbt_target=os.environ.get("COMMAND_CENTER_DBT_TARGET", "duckdb"),
        redaction_salt=os.environ.get("COMMAND_CENTER_REDACTION_SALT") or DEV_REDACTION_SALT,
        published_duckdb_path=_published_path(root),
    )


def _published_path(root: Path) -> Path:
    return published_path_for(_path_from_env("COMMAND_CENTER_DUCKDB", root / "warehouse" / "command_center.duckdb"))


def published_path_for(warehouse: Path) -> Path:
    """Where the marts of ``warehouse`` are published: COMMAND_CENTER_PUBLISHED_DUCKDB, else
    ``<warehouse stem>_published.duckdb`` beside the warehouse (``command_center_published.duckdb``)."""
    return _path_from_env(PUBLISHED_DUCKDB_ENV, warehouse.with_name(f"{warehouse.stem}_published.duckdb"))


def _make_parent(path: Path, setting: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{setting}={path}: cannot create its folder {path.parent} ({exc.strerror or exc}); "
            f"point {setting} at a file in a writable folder"
        ) from None
    if path.is_dir():
        raise ConfigError(f"{setting}={path} is a directory; point {setting} at a DuckDB file (e.g. {path / 'command_center.duckdb'})")


def prepare_environment(settings: Settings | None = None) -> Settings:
    """Export what child tools need (dbt profile path, DuckDB file, DAGSTER_HOME with telemetry off)."""
    disable_telemetry()
    s = settings or get_settings()
    os.environ["COMMAND_CENTER_DUCKDB"] = str(s.duckdb_path)
    os.environ.setdefault("DBT_PROFILES_DIR", str(s.dbt_profiles_dir))
    os.environ.setdefault("DAGSTER_HOME", str(s.dagster_home))
    _make_parent(s.duckdb_path, "COMMAND_CENTER_DUCKDB")
    from orchestration.lib.warehouse import memory_limit  # here, not at the top: it imports this module

    memory_limit()  # a bad COMMAND_CENTER_DUCKDB_MEMORY_LIMIT is a ConfigError now, not at first use
    home = Path(os.environ["DAGSTER_HOME"])
    try:
        home.mkdir(parents=True, exist_ok=True)
        cfg = home / "dagster.yaml"
        if not cfg.exists():
            cfg.write_text(DAGSTER_YAML)
    except OSError as exc:
        raise ConfigError(f"DAGSTER_HOME={home}: cannot create it or its dagster.yaml ({exc.strerror or exc})") from None
    return s
