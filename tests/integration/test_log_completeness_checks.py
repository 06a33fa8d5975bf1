"""The dbt log-completeness checks, tested the way elementary tests its own: rows that must pass, rows
that must fail, the real check, both outcomes asserted.

Two tiny warehouses are built from hand-made rows (raw DDL from the contract, the register landed
by ``land_register``, events inserted into raw.workflow_events):

* **pass**: every case each check must accept (saga pairs, equal timestamps, follow-ups after the end,
  an edge run, a weekly low day, thresholds from the register, small and retired workflows, ...);
* **fail**: one workflow per check (a few per check where a variant matters), each holding rows that
  violate it.

Each is built once by the real ``dbt build`` (with ``--store-failures``, so every failing test's rows
land in ``dbt_test__audit.<test name>``; ``--target-path`` and the log path point into the test's tmp
dir, so parallel runs never collide). The tests then read ``run_results.json`` for each check's
status (pass / fail / warn) and compare the stored violation rows with the expected ones, exactly.
Dates are relative to today (UTC), so the real-clock part of no_future_events never drifts.
"""
from __future__ import annotations

import copy
import itertools
import json
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml

from orchestration.lib.contract import MAX_FUTURE_SKEW_HOURS, RAW_DDL
from orchestration.lib.dbt import dbt_executable
from orchestration.lib.register import land_register, parse_register
from orchestration.settings import REPO_ROOT

#: check name -> the severity its dbt test must have (the Dagster wiring relies on the names).
CHECKS: dict[str, str] = {
    "one_run_started": "error",
    "one_terminal_event": "error",
    "nothing_after_run_end": "error",
    "exception_follow_up_after_raise": "error",
    "no_future_events": "error",
    "daily_volume": "warn",
    "no_silent_days": "warn",
    "freshness": "warn",
}

LATEST_DAY = datetime.now(UTC).date() - timedelta(days=1)  # the last (incomplete) day of the data
FIRST_DAY = LATEST_DAY - timedelta(days=20)  # 21 days of data
AS_OF = datetime.combine(LATEST_DAY + timedelta(days=1), time(6, 0))  # var freshness_as_of
LOADED_AT = datetime.combine(LATEST_DAY + timedelta(days=1), time(0, 30))  # the landing time of most rows
SKEW = timedelta(hours=MAX_FUTURE_SKEW_HOURS)
SELECT = ["+agg_log_completeness_daily", "+fct_workflow_runs"]


def day(index: int) -> date:
    """The index-th day of the data (0 = FIRST_DAY, 20 = LATEST_DAY)."""
    return FIRST_DAY + timedelta(days=index)


def at(index: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day(index), time(hh, mm, ss))


# ------------------------------------------------------------------------------------------------
# hand-made rows
# ------------------------------------------------------------------------------------------------


@dataclass
class Rows:
    """Events of one warehouse, plus the register entries (workflow -> log_checks) it needs."""

    events: list[dict] = field(default_factory=list)
    registered: dict[str, dict] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def ev(self, wf: str, run: str, event_type: str, ts: datetime, *, event_id: str | None = None,
           exception_id: str | None = None, log_format: str = "telemetry", loaded_at: datetime = LOADED_AT) -> str:
        event_id = event_id or f"evt_{next(self._ids):06d}"
        self.events.append({
            "event_id": event_id, "workflow_id": wf, "run_id": run, "event_type": event_type, "event_ts": ts,
            "region": "eu-west-1", "exception_id": exception_id, "log_format": log_format,
            "load_id": "load_test", "source_file": "hand_made.jsonl", "source_row_number": len(self.events) + 1,
            "loaded_at": loaded_at,
        })
        return event_id

    def run(self, wf: str, run: str, start: datetime, *, minutes: int = 30, end: str | None = "run_completed") -> None:
        """A clean run of 4 events (3 when in flight): run_started, stage_started, stage_completed, the end."""
        self.ev(wf, run, "run_started", start)
        self.ev(wf, run, "stage_started", start + timedelta(minutes=1))
        self.ev(wf, run, "stage_completed", start + timedelta(minutes=minutes - 1))
        if end:
            self.ev(wf, run, end, start + timedelta(minutes=minutes))

    def steady(self, wf: str, events_per_day, *, first: int = 0, last: int = 20) -> None:
        """Clean runs of 4 events on every day first..last; events_per_day(index) must be a multiple of 4."""
        for index in range(first, last + 1):
            n = events_per_day(index)
            assert n % 4 == 0, n
            for i in range(n // 4):
                self.run(wf, f"{wf}_d{index}_r{i}", at(index) + timedelta(minutes=5 + 40 * i), minutes=30)

    def register(self, wf: str, **log_checks) -> None:
        self.registered[wf] = log_checks


def pass_rows() -> Rows:
    r = Rows()
    # -- lifecycle: wf_life (registered, freshness 26 h) - every legitimate shape of a run --
    r.register("wf_life")
    # an edge run: it began before the window (no run_started, a follow-up without its raise), and its
    # first event is the workflow's first event
    r.ev("wf_life", "edge", "stage_completed", at(0, 8))
    r.ev("wf_life", "edge", "exception_resolved", at(0, 8, 10), exception_id="exc_before_window")
    r.ev("wf_life", "edge", "run_completed", at(0, 9))
    r.run("wf_life", "ok", at(1, 10))
    # saga: failure then compensation; the exception follow-ups come after the end
    r.ev("wf_life", "saga", "run_started", at(2, 10))
    r.ev("wf_life", "saga", "exception_raised", at(2, 10, 19), exception_id="exc_saga")
    r.ev("wf_life", "saga", "run_failed", at(2, 10, 20))
    r.ev("wf_life", "saga", "run_compensated", at(2, 10, 40))
    r.ev("wf_life", "saga", "exception_acknowledged", at(2, 10, 50), exception_id="exc_saga")
    r.ev("wf_life", "saga", "exception_resolved", at(2, 12), exception_id="exc_saga")
    # saga at one instant (compensation not before the failure)
    r.ev("wf_life", "saga_tie", "run_started", at(3, 10))
    r.ev("wf_life", "saga_tie", "run_compensated", at(3, 10, 20), event_id="a_comp")
    r.ev("wf_life", "saga_tie", "run_failed", at(3, 10, 20), event_id="b_fail")
    # an event at the very instant of the end is not after it; a follow-up at the instant of its raise is not before it
    r.ev("wf_life", "tie", "run_started", at(4, 10))
    r.ev("wf_life", "tie", "exception_raised", at(4, 10, 5), exception_id="exc_tie")
    r.ev("wf_life", "tie", "exception_acknowledged", at(4, 10, 5), exception_id="exc_tie")
    r.ev("wf_life", "tie", "stage_completed", at(4, 10, 30))
    r.ev("wf_life", "tie", "run_completed", at(4, 10, 30))
    # exactly the contract's skew after landing
    r.ev("wf_life", "skew", "run_started", at(18, 12), loaded_at=at(18, 12) - SKEW)
    r.run("wf_life", "late_today", at(20, 21), end=None)  # in flight: no terminal, nothing to check
    # a minimal log: no lifecycle events at all
    for minute in (0, 10, 20):
        r.ev("wf_minimal", "case_1", "stage_completed", at(19, 9, minute), log_format="minimal")

    # -- freshness: the register's per-workflow threshold, and exactly at the threshold --
    r.register("wf_fresh_72h", freshness_threshold_hours=72)
    r.run("wf_fresh_72h", "r1", AS_OF - timedelta(hours=50, minutes=30))  # newest event 50 h old
    r.register("wf_fresh_at_threshold")
    r.run("wf_fresh_at_threshold", "r1", AS_OF - timedelta(hours=26, minutes=30))  # newest exactly 26 h old

    # -- volume --
    # a weekly low day at 40 of 120 events: below half the 7-day median, but normal for the weekday;
    # and a day at exactly half the median
    r.steady("wf_vol_weekly", lambda i: 40 if i % 7 == 3 else 60 if i == 13 else 120)
    # a day at 28 of 120 events (23%) passes the register's 20% for this workflow
    r.register("wf_vol_reg20", volume_min_share_of_median_pct=20)
    r.steady("wf_vol_reg20", lambda i: 28 if i == 15 else 120)
    # a small workflow (median 12 events): silent days and drops are noise, not checked
    r.steady("wf_small", lambda i: 0 if i in (5, 12) else 4 if i == 16 else 12)
    # a retired workflow: no event in the last 7 days, so not active - its silence is not reported
    r.steady("wf_retired", lambda i: 120, last=8)
    return r


@dataclass(frozen=True)
class Violation:
    check: str
    workflow_id: str
    run_id: str | None = None
    event_id: str | None = None
    event_day: date | None = None


def fail_rows() -> tuple[Rows, set[Violation]]:
    r = Rows()
    expected: set[Violation] = set()

    def expect(check, wf, run=None, event_id=None, on=None):
        expected.add(Violation(check, wf, run, event_id, on))

    # -- one_run_started --
    r.run("wf_f_start", "base", at(0, 9))
    r.ev("wf_f_start", "no_start", "stage_started", at(5, 10))  # 5 days after the workflow's first event
    r.ev("wf_f_start", "no_start", "stage_completed", at(5, 10, 20))
    r.ev("wf_f_start", "no_start", "run_completed", at(5, 10, 30))
    expect("one_run_started", "wf_f_start", "no_start", None, day(5))
    r.ev("wf_f_start", "two_starts", "run_started", at(6, 10))
    second = r.ev("wf_f_start", "two_starts", "run_started", at(6, 10, 1))
    r.ev("wf_f_start", "two_starts", "run_completed", at(6, 10, 30))
    expect("one_run_started", "wf_f_start", "two_starts", second, day(6))

    # -- one_terminal_event (some also break nothing_after_run_end: a second terminal event after the end) --
    r.ev("wf_f_term", "same_instant", "run_started", at(6, 10))
    r.ev("wf_f_term", "same_instant", "run_completed", at(6, 10, 30), event_id="t1_completed")
    r.ev("wf_f_term", "same_instant", "run_failed", at(6, 10, 30), event_id="t2_failed")
    expect("one_terminal_event", "wf_f_term", "same_instant", "t2_failed", day(6))
    r.ev("wf_f_term", "twice", "run_started", at(7, 10))
    r.ev("wf_f_term", "twice", "run_completed", at(7, 10, 30))
    again = r.ev("wf_f_term", "twice", "run_completed", at(7, 10, 45))
    expect("one_terminal_event", "wf_f_term", "twice", again, day(7))
    expect("nothing_after_run_end", "wf_f_term", "twice", again, day(7))
    r.ev("wf_f_term", "compensated_first", "run_started", at(8, 10))
    r.ev("wf_f_term", "compensated_first", "run_compensated", at(8, 10, 30))
    failed = r.ev("wf_f_term", "compensated_first", "run_failed", at(8, 10, 40))
    expect("one_terminal_event", "wf_f_term", "compensated_first", failed, day(8))
    expect("nothing_after_run_end", "wf_f_term", "compensated_first", failed, day(8))
    r.ev("wf_f_term", "compensated_twice", "run_started", at(9, 10))
    r.ev("wf_f_term", "compensated_twice", "run_failed", at(9, 10, 30))
    comp = r.ev("wf_f_term", "compensated_twice", "run_compensated", at(9, 10, 40))
    r.ev("wf_f_term", "compensated_twice", "run_compensated", at(9, 10, 50))
    expect("one_terminal_event", "wf_f_term", "compensated_twice", comp, day(9))

    # -- nothing_after_run_end --
    r.ev("wf_f_after", "late_stage", "run_started", at(10, 10))
    r.ev("wf_f_after", "late_stage", "run_completed", at(10, 10, 30))
    late = r.ev("wf_f_after", "late_stage", "stage_completed", at(10, 10, 30, 1))
    expect("nothing_after_run_end", "wf_f_after", "late_stage", late, day(10))
    r.ev("wf_f_after", "late_raise", "run_started", at(11, 23))
    r.ev("wf_f_after", "late_raise", "run_failed", at(11, 23, 30))
    raise_ = r.ev("wf_f_after", "late_raise", "exception_raised", at(12, 0, 10), exception_id="exc_late")
    r.ev("wf_f_after", "late_raise", "exception_acknowledged", at(12, 0, 20), exception_id="exc_late")
    expect("nothing_after_run_end", "wf_f_after", "late_raise", raise_, day(12))

    # -- exception_follow_up_after_raise --
    r.ev("wf_f_exc", "r1", "run_started", at(12, 10))
    r.ev("wf_f_exc", "r1", "exception_raised", at(12, 10, 10), exception_id="exc_a")
    early = r.ev("wf_f_exc", "r1", "exception_acknowledged", at(12, 10, 9, 59), exception_id="exc_a")
    orphan = r.ev("wf_f_exc", "r1", "exception_resolved", at(12, 10, 20), exception_id="exc_never_raised")
    no_id = r.ev("wf_f_exc", "r1", "exception_acknowledged", at(12, 10, 25))
    r.ev("wf_f_exc", "r1", "run_completed", at(12, 10, 30))
    for event_id in (early, orphan, no_id):
        expect("exception_follow_up_after_raise", "wf_f_exc", "r1", event_id, day(12))

    # -- no_future_events (attributed to the landing day) --
    beyond_skew = r.ev("wf_f_future", "f1", "run_started", LOADED_AT + SKEW + timedelta(seconds=1))
    expect("no_future_events", "wf_f_future", "f1", beyond_skew, LOADED_AT.date())
    far = datetime(2099, 6, 1, 12, 0)  # landed "then" too: only the current time gives it away
    beyond_now = r.ev("wf_f_future", "f2", "run_started", far, loaded_at=far)
    expect("no_future_events", "wf_f_future", "f2", beyond_now, far.date())

    # -- daily_volume: the default share (50%) for an unregistered workflow, the register's for a registered one --
    r.steady("wf_f_volume", lambda i: 40 if i == 17 else 8 if i == 20 else 120)  # day 20 is incomplete: not checked
    expect("daily_volume", "wf_f_volume", on=day(17))
    r.register("wf_f_volume_reg80", volume_min_share_of_median_pct=80)
    r.steady("wf_f_volume_reg80", lambda i: 88 if i == 16 else 120)  # 73% < 80%
    expect("daily_volume", "wf_f_volume_reg80", on=day(16))

    # -- no_silent_days: one in the first week (no trailing window: only a silent day), one later (also a drop) --
    r.steady("wf_f_silent", lambda i: 0 if i in (3, 14) else 120)
    expect("no_silent_days", "wf_f_silent", on=day(3))
    expect("no_silent_days", "wf_f_silent", on=day(14))
    expect("daily_volume", "wf_f_silent", on=day(14))

    # -- freshness --
    r.register("wf_f_stale")
    r.run("wf_f_stale", "r1", AS_OF - timedelta(hours=26, minutes=30, seconds=1))  # newest event 26 h 1 s old
    expect("freshness", "wf_f_stale", on=(AS_OF - timedelta(hours=26, seconds=1)).date())
    r.register("wf_f_never_seen")  # registered, no events at all
    expect("freshness", "wf_f_never_seen")
    return r, expected


# ------------------------------------------------------------------------------------------------
# building a warehouse and running the real dbt
# ------------------------------------------------------------------------------------------------


def _drop_other_workflows(node, keep: set[str]) -> None:
    """Remove, at any depth, list entries that are mappings naming a workflow_id not in ``keep``."""
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    if isinstance(node, list):
        node[:] = [e for e in node if not (isinstance(e, dict) and e.get("workflow_id", next(iter(keep))) not in keep)]
    for child in list(children):
        _drop_other_workflows(child, keep)


def _register(rows: Rows):
    data = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    template = data["owners"][0]
    owners = []
    for wf, log_checks in rows.registered.items():
        owner = copy.deepcopy(template)
        owner.update(workflow_id=wf, name=wf, regions=["eu-west-1"])
        owner.pop("log_checks", None)
        if log_checks:
            owner["log_checks"] = dict(log_checks)
        owners.append(owner)
    data["owners"] = owners
    # the register's cross-references must stay valid with only these workflows: entries of other
    # sections that name another workflow (stuck thresholds, reference paths, alert rules, ...) go
    _drop_other_workflows({k: v for k, v in data.items() if k != "owners"}, set(rows.registered))
    for assignment in data.get("rbac", {}).get("assignments", []):
        assignment["scope"] = ["*"]
    rates = data["cost_model"].get("labor_rates_per_hour", {})
    data["cost_model"]["labor_rates_per_hour"] = {t: v for t, v in rates.items() if t == template.get("owner_team")}
    return parse_register(data, "test register")


def _land(db: Path, rows: Rows) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("set TimeZone = 'UTC'")
        for ddl in RAW_DDL:
            con.execute(ddl)
        land_register(con, _register(rows), source_path="test register", sha256="test")
        con.execute(
            "insert into raw.load_ledger (load_id, file_sha256, file_path, file_format, log_format, file_bytes, "
            "rows_read, rows_loaded, rows_quarantined, loaded_at) values ('load_test', 'sha_test', 'hand_made.jsonl', 'jsonl', 'telemetry', "
            "1, ?, ?, 0, ?)", [len(rows.events), len(rows.events), LOADED_AT])
        con.register("hand_made_events", pa.Table.from_pylist(rows.events))
        con.execute("insert into raw.workflow_events by name select * from hand_made_events")
    finally:
        con.close()


@dataclass
class Built:
    db: Path
    results: dict[str, dict]  # run_results by node name
    stdout: str

    def status(self, name: str) -> str:
        return self.results[name]["status"]

    def violations(self, check: str) -> set[Violation]:
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            tables = {t for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'dbt_test__audit'").fetchall()}
            if f"log_completeness_{check}" not in tables:
                return set()
            rows = con.execute(
                f"select check_name, workflow_id, run_id, event_id, event_day from dbt_test__audit.log_completeness_{check}"
            ).fetchall()
        finally:
            con.close()
        return {Violation(*row) for row in rows}


def _start_build(cc_env, tmp: Path, rows: Rows) -> tuple[subprocess.Popen, Path, Path]:
    db = tmp / "wh.duckdb"
    _land(db, rows)
    target = tmp / "target"
    env = cc_env.environ(tmp, duckdb=db, extra={"DBT_LOG_PATH": str(tmp / "logs")})
    command = [
        dbt_executable(), "build", "--select", *SELECT, "--indirect-selection", "cautious", "--store-failures",
        "--vars", json.dumps({"freshness_as_of": AS_OF.isoformat(sep=" ")}),
        "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT / "profiles"), "--target", "duckdb",
        "--target-path", str(target),
    ]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, db, target


def _finish_build(proc: subprocess.Popen, db: Path, target: Path) -> Built:
    stdout, _ = proc.communicate(timeout=300)
    results_path = target / "run_results.json"
    assert results_path.exists(), stdout
    results = json.loads(results_path.read_text())["results"]
    # models and tests by name (unit tests carry their model's name: keep them out)
    by_name = {r["unique_id"].split(".")[2]: r for r in results if r["unique_id"].split(".")[0] in ("model", "test")}
    return Built(db, by_name, stdout)


@pytest.fixture(scope="module")
def builds(tmp_path_factory, cc_env) -> dict[str, tuple[Built, set[Violation]]]:
    """Both warehouses built by dbt at once (separate files, target paths and logs)."""
    fail, expected = fail_rows()
    started = {
        "pass": _start_build(cc_env, tmp_path_factory.mktemp("lc_pass"), pass_rows()),
        "fail": _start_build(cc_env, tmp_path_factory.mktemp("lc_fail"), fail),
    }
    built = {name: _finish_build(*args) for name, args in started.items()}
    return {"pass": (built["pass"], set()), "fail": (built["fail"], expected)}


# ------------------------------------------------------------------------------------------------
# the tests
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS)
def test_check_passes_on_rows_that_must_pass(builds, check):
    built, _ = builds["pass"]
    test = f"log_completeness_{check}"
    assert built.status(test) == "pass", (built.violations(check), built.results[test].get("message"))
    assert built.violations(check) == set()


@pytest.mark.parametrize("check", CHECKS)
def test_check_fails_on_rows_that_must_fail(builds, check):
    built, expected = builds["fail"]
    test = f"log_completeness_{check}"
    want = {v for v in expected if v.check == check}
    assert built.status(test) == ("fail" if CHECKS[check] == "error" else "warn")
    assert built.results[test]["failures"] == len(want)
    got = built.violations(check)
    # volume, silent-day and freshness violations name no run or event; compare what they carry
    assert got == want


def test_every_check_has_its_test_with_the_agreed_severity():
    declared = {}
    yml = yaml.safe_load((REPO_ROOT / "models/intermediate/quality/_int_quality__models.yml").read_text())
    violations_model = next(m for m in yml["models"] if m["name"] == "int_log_completeness_violations")
    for test in violations_model["data_tests"]:
        # (a test without arguments is a plain name, e.g. model_tests_folded)
        if isinstance(test, dict) and test.get("test_name") == "log_completeness":
            declared[test["arguments"]["check_name"]] = (test["name"], test["config"]["severity"])
    assert declared == {c: (f"log_completeness_{c}", s) for c, s in CHECKS.items()}


def test_pass_warehouse_builds_the_marts_and_the_violations_model_is_empty(builds):
    built, _ = builds["pass"]
    for model in ("int_log_completeness_violations", "agg_log_completeness_daily", "fct_workflow_runs"):
        assert built.status(model) == "success", built.stdout[-3000:]
    con = duckdb.connect(str(built.db), read_only=True)
    try:
        assert con.execute("select count(*) from intermediate.int_log_completeness_violations").fetchone() == (0,)
        # wf_life: every ended run complete (the edge run and the saga pairs included); the minimal log has no runs
        life = con.execute("""
            select sum(runs_ended), sum(runs_with_complete_lifecycle), sum(checks_failed)
            from marts.agg_log_completeness_daily where workflow_id = 'wf_life'""").fetchone()
        assert life == (5, 5, 0)
        minimal = con.execute("""
            select sum(events), sum(runs_started), sum(runs_ended), count(share_complete)
            from marts.agg_log_completeness_daily where workflow_id = 'wf_minimal'""").fetchone()
        assert minimal == (3, 0, 0, 0)
        # the small workflow's silent days are rows with zero events (a spine), not violations
        silent = con.execute("""
            select count(*) from marts.agg_log_completeness_daily
            where workflow_id = 'wf_small' and events = 0 and violations = 0""").fetchone()
        assert silent == (2,)
    finally:
        con.close()


def test_a_failing_error_check_skips_the_marts(builds):
    built, _ = builds["fail"]
    for check, severity in CHECKS.items():
        assert built.status(f"log_completeness_{check}") == ("fail" if severity == "error" else "warn")
    # everything downstream of the violations table is skipped: the facts, the run marts and the
    # quality mart alike (the intermediates that read the events depend on the table: the gate)
    for model in ("fct_workflow_runs", "agg_log_completeness_daily", "int_runs_summarized"):
        assert built.status(model) == "skipped", model
    # the violations table itself (it holds the failures), the staging model and models beside it are built
    assert built.status("int_log_completeness_violations") == "success"
    assert built.status("stg_command_center__workflow_events") == "success"
    assert built.status("stg_governance__slo_targets") == "success"


def test_future_skew_default_is_the_contracts():
    macro = (REPO_ROOT / "macros/quality/log_completeness/log_completeness_violations.sql").read_text()
    default = re.search(r"var\('log_completeness_max_future_skew_hours',\s*(\d+)\)", macro)
    assert default and int(default.group(1)) == MAX_FUTURE_SKEW_HOURS


def test_every_model_that_reads_the_events_is_behind_the_gate(tmp_path, cc_env):
    """The error checks block the marts only because every model that reads the events (other than the
    violations table itself) depends on int_log_completeness_violations, and every mart descends from
    one of them. A new model reading the events without `-- depends_on:` the table would escape the
    gate: this fails then, naming it."""
    env = cc_env.environ(tmp_path, duckdb=tmp_path / "wh.duckdb", extra={"DBT_LOG_PATH": str(tmp_path / "logs")})
    subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT / "profiles"),
         "--target", "duckdb", "--target-path", str(tmp_path / "target")],
        cwd=REPO_ROOT, env=env, check=True, capture_output=True,
    )
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    events = next(uid for uid, n in models.items() if n["name"] == "stg_command_center__workflow_events")
    gate = next(uid for uid, n in models.items() if n["name"] == "int_log_completeness_violations")
    # the gate itself, and the checks it depends on (int_load_ledger_mismatches: the ledger gate), are exempt
    exempt = {gate, *models[gate]["depends_on"]["nodes"]}
    readers = {uid for uid, n in models.items() if events in n["depends_on"]["nodes"] and uid not in exempt}
    assert readers, "no model reads the events?"
    ungated = sorted(models[uid]["name"] for uid in readers if gate not in models[uid]["depends_on"]["nodes"])
    assert not ungated, f"read the events without depending on the gate: {ungated}"

    def ancestors(uid: str, seen: set[str]) -> set[str]:
        for parent in models.get(uid, {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                ancestors(parent, seen)
        return seen

    marts = [uid for uid, n in models.items() if n["path"].startswith("marts/")]
    assert marts
    outside = sorted(models[uid]["name"] for uid in marts if gate not in ancestors(uid, set()))
    assert not outside, f"marts not downstream of the gate: {outside}"
