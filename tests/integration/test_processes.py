"""The dbt child of `command-center build` never outlives the CLI: killed with it (kill -9 included),
so the warehouse's write lock is free again within seconds."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.lib.warehouse import WarehouseBusyError, connect
from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")

CLI = str(Path(sys.executable).parent / "command-center")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _has_open(pid: int, path: Path) -> bool:
    """Whether process pid has path open (its /proc fd links): watching it takes no DuckDB lock, so
    it cannot make the build under test fail."""
    try:
        fds = list((Path("/proc") / str(pid) / "fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == os.path.realpath(path):
                return True
        except OSError:
            continue
    return False


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_kill_9_of_the_cli_frees_the_warehouse_within_seconds(tmp_path):
    db = tmp_path / "cc.duckdb"
    env = {**os.environ, **TELEMETRY_OFF, "COMMAND_CENTER_DUCKDB": str(db), "DAGSTER_HOME": str(tmp_path / "dh"),
           "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"), "COMMAND_CENTER_DBT_TARGET": "duckdb",
           "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")}
    cli = subprocess.Popen([CLI, "build"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dbt = _wait_for(lambda: next((p for p in _children(cli.pid) if "dbt" in _cmdline(p)), None), 60, "dbt to start")

        _wait_for(lambda: _has_open(dbt, db), 60, "dbt to open the warehouse")  # without touching its lock
        assert cli.poll() is None, "the build finished before it could be killed"
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(timeout=10)
        _wait_for(lambda: not _alive(dbt), 5, "the dbt child to die with the CLI")

        def writable() -> bool:
            try:
                connect(db).close()
                return True
            except WarehouseBusyError:
                return False

        _wait_for(writable, 5, "the warehouse to be free for writing")
    finally:
        if cli.poll() is None:
            cli.kill()


def test_sigterm_to_the_cli_reaches_the_whole_child_process_group(tmp_path):
    """run_child forwards SIGTERM to the child's process group: a grandchild dies too."""
    pidfile = tmp_path / "grandchild.pid"
    script = (
        "from orchestration.lib.dbt import run_child;"
        f"run_child(['sh', '-c', 'sleep 120 & echo $! > {pidfile}; wait'], cwd='.')"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        _wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), 20, "the grandchild to start")
        grandchild = int(pidfile.read_text())
        assert _alive(grandchild)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=10) == 128 + signal.SIGTERM
        _wait_for(lambda: not _alive(grandchild), 5, "the grandchild to die")
    finally:
        if parent.poll() is None:
            parent.kill()
