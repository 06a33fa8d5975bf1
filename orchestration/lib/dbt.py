"""Running dbt in-process against the configured warehouse (the CLI's `build` and `parse`)."""
from __future__ import annotations

import json
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


def run_dbt(settings: Settings, command: list[str]) -> None:
    """Invoke dbt with dbtRunner; raise DbtFailed with a readable summary when it fails."""
    prepare_environment(settings)
    from dbt.cli.main import dbtRunner  # imported late: dbt is slow to import

    result = dbtRunner().invoke(dbt_args(settings, command))
    if result.success:
        return
    if result.exception is not None:
        raise DbtFailed(f"dbt {command[0]} could not run: {result.exception}")
    failures = []
    for r in getattr(result.result, "results", None) or []:
        status = str(getattr(r, "status", ""))
        if status.lower() in ("error", "fail"):
            failures.append(f"{r.node.unique_id}: {status}{' - ' + r.message if r.message else ''}")
    detail = "\n".join(f"  - {f}" for f in failures[:20]) or "  (see the dbt output above)"
    raise DbtFailed(f"dbt {command[0]} failed:\n{detail}")


def last_run_results(settings: Settings) -> dict | None:
    path = Path(settings.dbt_project_dir) / "target" / "run_results.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
