"""Running dbt in-process against the configured warehouse (the CLI's `build` and `parse`)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import Settings, prepare_environment


class DbtFailed(RuntimeError):
    pass


def dbt_args(settings: Settings, command: list[str]) -> list[str]:
    """The dbt command line for this project: project dir, profiles dir and target made explicit."""
    return [
        *command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_profiles_dir),
        "--target",
        settings.dbt_target,
    ]


def dbt_executable() -> str:
    """The dbt console script of this environment (beside the running interpreter), else dbt on PATH.

    ``.venv/bin/dagster dev`` does not put ``.venv/bin`` on PATH, so PATH alone is not enough.
    """
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise DbtFailed("dbt is not installed in this environment; run `make demo` or `make test` to set it up")
    return found


def run_dbt(settings: Settings, command: list[str]) -> None:
    """Run dbt in a child process; raise DbtFailed with a readable summary when it fails.

    A child process, not dbtRunner in-process: dbt-duckdb keeps its DuckDB handle open for the life of
    the process, which would block the caller's own (read-only) connections to the warehouse afterwards.
    dbt's own log streams to the terminal as it runs.
    """
    prepare_environment(settings)
    proc = subprocess.run([dbt_executable(), *dbt_args(settings, command)], cwd=settings.dbt_project_dir, env=os.environ.copy(), check=False)
    if proc.returncode == 0:
        return
    failures = []
    results = last_run_results(settings) if command and command[0] in ("build", "run", "test", "seed") else None
    for r in (results or {}).get("results", []):
        if str(r.get("status", "")).lower() in ("error", "fail"):
            message = (r.get("message") or "").strip().splitlines()
            failures.append(f"{r.get('unique_id')}: {r.get('status')}" + (f" - {message[0]}" if message else ""))
    detail = "\n".join(f"  - {f}" for f in failures[:20]) or "  (see the dbt output above)"
    raise DbtFailed(f"dbt {command[0]} failed (exit {proc.returncode}):\n{detail}")


def last_run_results(settings: Settings) -> dict | None:
    # dbt writes to DBT_TARGET_PATH when it is set (tests, benchmarks), else the project's target/
    target = os.environ.get("DBT_TARGET_PATH") or str(Path(settings.dbt_project_dir) / "target")
    path = Path(settings.dbt_project_dir) / target / "run_results.json"  # an absolute target wins
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
