"""Running dbt in a child process against the configured warehouse (the CLI's `build` and `parse`).

The child never outlives the CLI: it runs in its own process group, SIGINT / SIGTERM / SIGHUP sent to
the CLI are forwarded to that group, and on Linux the kernel kills it (``PR_SET_PDEATHSIG``) when
the CLI dies, even by ``kill -9``; otherwise an orphaned dbt would keep the DuckDB write lock and
finish the build on its own.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
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


#: A full build (``--full-refresh``, or the first build of a warehouse) over more events than this runs
#: on ONE dbt thread. Measured at 10M events on the 2-core machine (docs/benchmarks.md, "dbt threads"):
#: one thread 139 s, two threads 233 s - the big models each already use both cores inside DuckDB, and two
#: of them side by side contend for the one 3 GB memory limit and spill. Below ~1M events (peak RSS 0.76 GB)
#: the models fit side by side and the profile's two threads overlap dbt's per-node overhead. Incremental
#: (nightly) builds keep the profile's threads: their nodes are small.
SERIAL_FULL_BUILD_EVENTS_ENV = "COMMAND_CENTER_SERIAL_FULL_BUILD_EVENTS"
DEFAULT_SERIAL_FULL_BUILD_EVENTS = 2_000_000


def full_build_thread_args(events: int) -> list[str]:
    """``["--threads", "1"]`` for a full build over more than the threshold's events, else ``[]``."""
    raw = os.environ.get(SERIAL_FULL_BUILD_EVENTS_ENV, "").strip()
    try:
        threshold = int(raw) if raw else DEFAULT_SERIAL_FULL_BUILD_EVENTS
    except ValueError:
        raise DbtFailed(f"{SERIAL_FULL_BUILD_EVENTS_ENV} must be a whole number of events, not {raw!r}") from None
    return ["--threads", "1"] if events > threshold else []


def duckdb_full_build_thread_args(con, full_refresh: bool) -> list[str]:
    """The thread arguments of a build on this DuckDB warehouse: one thread when the build is a full one
    (``full_refresh``, or no mart built yet) over a large history (`full_build_thread_args`)."""
    first_build = con.execute(
        "select count(*) = 0 from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_workflow_runs'").fetchone()[0]
    if not (full_refresh or first_build):
        return []
    has_events = con.execute(
        "select count(*) > 0 from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'workflow_events'").fetchone()[0]
    events = con.execute("select count(*) from raw.workflow_events").fetchone()[0] if has_events else 0
    return full_build_thread_args(events)


def run_dbt(settings: Settings, command: list[str]) -> None:
    """Run dbt in a child process; raise DbtFailed with a readable summary when it fails.

    A child process, not dbtRunner in-process: dbt-duckdb keeps its DuckDB handle open for the life of
    the process, which would block the caller's own (read-only) connections to the warehouse afterwards.
    dbt's own log streams to the terminal as it runs.
    """
    prepare_environment(settings)
    returncode = run_child([dbt_executable(), *dbt_args(settings, command)], cwd=settings.dbt_project_dir)
    if returncode == 0:
        return
    failures = []
    results = last_run_results(settings) if command and command[0] in ("build", "run", "test", "seed") else None
    for r in (results or {}).get("results", []):
        if str(r.get("status", "")).lower() in ("error", "fail"):
            message = (r.get("message") or "").strip().splitlines()
            failures.append(f"{r.get('unique_id')}: {r.get('status')}" + (f" - {message[0]}" if message else ""))
    detail = "\n".join(f"  - {f}" for f in failures[:20]) or "  (see the dbt output above)"
    raise DbtFailed(f"dbt {command[0]} failed (exit {returncode}):\n{detail}")


PR_SET_PDEATHSIG = 1  # linux/prctl.h
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _die_with_parent_preexec():
    """A ``preexec_fn`` that makes the child receive SIGKILL when this process dies (Linux only).

    libc is loaded here, before the fork; the child only calls prctl. If this process died between
    the fork and the prctl call, the child is already orphaned and exits at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def run_child(args: list[str], *, cwd: Path | str) -> int:
    """Run ``args`` to completion and return its exit code, tying its life to this process:
    its own process group (its children included) gets the SIGINT / SIGTERM / SIGHUP this process
    receives, is killed if this function exits early, and (Linux) is killed by the kernel when this
    process dies. After a forwarded SIGINT, KeyboardInterrupt is raised; after SIGTERM or SIGHUP,
    SystemExit(128 + signal)."""
    received: list[int] = []
    proc: subprocess.Popen | None = None

    def forward(signum, _frame) -> None:
        received.append(signum)
        if proc is None:  # the child is not started yet: it will not be (see below)
            return
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    # The handlers go in BEFORE the child starts: a signal that arrives while it starts is then
    # forwarded (or stops the start) instead of meeting the inherited disposition -- SIG_IGN when a
    # parent ignores SIGTERM, which left the child running on.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS} if in_main_thread else {}
    returncode = 128
    try:
        if not received:
            proc = subprocess.Popen(
                args, cwd=cwd, env=os.environ.copy(), process_group=0, preexec_fn=_die_with_parent_preexec()
            )
            if received:  # a signal arrived while Popen ran: pass it on now
                os.killpg(proc.pid, received[0])
            returncode = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc is not None and proc.poll() is None:  # leaving early (an exception here): the child goes too
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    if received:
        if received[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + received[0])
    return returncode


def target_dir(settings: Settings) -> Path:
    """Where dbt writes its artifacts: DBT_TARGET_PATH when it is set (tests, benchmarks), else the
    project's target/ (a relative DBT_TARGET_PATH is under the project; an absolute one wins)."""
    target = os.environ.get("DBT_TARGET_PATH") or str(Path(settings.dbt_project_dir) / "target")
    return Path(settings.dbt_project_dir) / target


#: dbt project keys naming folders whose files end up in the manifest, with dbt's defaults.
PROJECT_PATH_KEYS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "seed-paths": ["seeds"],
    "test-paths": ["tests"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
}
PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv", ".py"}


def project_files(project_dir: Path | str, profiles_dir: Path | str) -> Iterator[Path]:
    """dbt_project.yml, profiles.yml and every project file dbt parses (per dbt_project.yml's paths)."""
    import yaml

    project_dir, profiles_dir = Path(project_dir), Path(profiles_dir)
    yield project_dir / "dbt_project.yml"
    yield profiles_dir / "profiles.yml"
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    for key, default in PROJECT_PATH_KEYS.items():
        for folder in config.get(key) or default:
            root = project_dir / folder
            if root.is_dir():
                yield from (p for p in root.rglob("*") if p.suffix in PROJECT_FILE_SUFFIXES and p.is_file())


def manifest_outdated(manifest: Path, project_dir: Path | str, profiles_dir: Path | str) -> bool:
    """True when ``manifest`` is missing or older than a file dbt would parse."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.stat().st_mtime > built for p in project_files(project_dir, profiles_dir) if p.exists())


def current_manifest(settings: Settings) -> dict:
    """The manifest of the project as it is now (the release about to be built): target/manifest.json,
    after a ``dbt parse`` only when it is missing or older than a project file (after a build it is
    current: no dbt invocation)."""
    path = target_dir(settings) / "manifest.json"
    if manifest_outdated(path, settings.dbt_project_dir, settings.dbt_profiles_dir):
        run_dbt(settings, ["parse"])
    return json.loads(path.read_text(encoding="utf-8"))


def last_run_results(settings: Settings) -> dict | None:
    path = target_dir(settings) / "run_results.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
