"""The nightly build and the weekly full check (selectors.yml, macros/nightly/nightly_build.sql).

- the selectors: the nightly build leaves out the unit tests, the weekly-partitioned models and the
  whole-history tests (tag full_history) and runs each one's companion; the weekly full check runs every
  data test, the whole-history ones included, and the ledger gate;
- a violation planted in OLD data (a duplicate event_id written outside landing, with an old loaded_at)
  is not the nightly check's: its companion passes, and the full (weekly) check fails on it;
- a violation in NEW data (a duplicate of an old event landed after the last passing check) fails the
  nightly check;
- the same for the grain test (unique_combination_of_columns) and the cross-layer coverage test
  (assert_fct_workflow_runs_covers_every_event) against their nightly companions.
The shared warehouse was built with a plain `dbt build`, which recorded the watermark the companions read.
"""
from __future__ import annotations

import json
import subprocess

import duckdb
import pytest

from orchestration.lib.dbt import DbtFailed, dbt_args, dbt_executable, last_run_results, run_dbt
from orchestration.settings import prepare_environment

STG = "stg_command_center__workflow_events"
COMPANION = f"unique_new_{STG}_event_id"  # the nightly check (generic test unique_touched_since_last_check)
FULL = f"unique_{STG}_event_id"  # the whole-history unique test (tag full_history)


# the grain (unique_combination_of_columns) and cross-layer coverage checks: whole history weekly, new rows nightly
GRAIN_MODEL = "int_stage_attempts_summarized"
GRAIN_FULL = f"unique_combination_of_columns_{GRAIN_MODEL}_workflow_id__run_id__stage__attempt"
GRAIN_COMPANION = GRAIN_FULL.replace("unique_", "unique_new_", 1)
COVERS_FULL = "assert_fct_workflow_runs_covers_every_event"
COVERS_COMPANION = "assert_fct_workflow_runs_covers_every_new_event"


def _companion(full_history_test: str) -> str:
    if full_history_test.startswith("unique_"):
        return full_history_test.replace("unique_", "unique_new_", 1)
    if full_history_test.startswith("relationships_"):  # relationships_<model>_<column>__<field>__ref_<to>_
        return "relationships_new_" + full_history_test.removeprefix("relationships_").split("__")[0]
    if "_every_" in full_history_test:
        return full_history_test.replace("_every_", "_every_new_", 1)
    return f"{full_history_test}_new"  # a row-level check's companion: the same check on the rows written since the mark


def _ls(settings, *args: str, keys: tuple[str, ...] = ("name", "resource_type", "tags")) -> list[dict]:
    prepare_environment(settings)
    out = subprocess.run(
        [dbt_executable(), *dbt_args(settings, ["ls", "--quiet", "--output", "json",
                                                "--output-keys", *keys, *args])],
        cwd=settings.dbt_project_dir, capture_output=True, text=True, check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _test(settings, select: str) -> str | None:
    """None when the selected tests pass, else the failure text."""
    try:
        run_dbt(settings, ["test", "--select", select])
    except DbtFailed as exc:
        return str(exc)
    return None


def test_selectors_split_the_checks(shared_warehouse_copy):
    nightly = _ls(shared_warehouse_copy, "--selector", "nightly")
    weekly = _ls(shared_warehouse_copy, "--selector", "weekly_full_checks")
    everything = _ls(shared_warehouse_copy, keys=("name", "resource_type", "tags", "config", "test_metadata", "depends_on"))
    nightly_names = {n["name"] for n in nightly}
    # a companion folded into its model's model_tests_folded test (orchestration/lib/folded_tests.py) runs
    # in that test: it is in the nightly build when the folded test is
    from orchestration.lib.folded_tests import FOLDED_TEST, generic_test_name, is_folded

    folded_of = {n["depends_on"]["nodes"][0]: n["name"] for n in everything if generic_test_name(n) == FOLDED_TEST}
    nightly_names |= {n["name"] for n in everything
                      if is_folded(n) and folded_of.get(n["depends_on"]["nodes"][0]) in nightly_names}
    assert not [n for n in nightly if n["resource_type"] == "unit_test"]
    assert not [n for n in nightly if "full_history" in (n.get("tags") or [])]
    assert "fct_slo_weekly_snapshot" not in nightly_names  # the weekly-partitioned model has its own job
    full_history = {n["name"] for n in everything if "full_history" in (n.get("tags") or [])}
    assert FULL in full_history
    # every whole-history test has its nightly companion: unique_new_<model>_<column>,
    # unique_new_combination_of_columns_<model>_<columns>, relationships_new_<model>_<column>,
    # assert_..._every_new_..., <row-level check>_new
    for name in full_history:
        assert _companion(name) in nightly_names, f"{name} has no nightly companion"
    assert GRAIN_FULL in full_history and COVERS_FULL in full_history
    # the weekly full check runs every data test (whole-history ones included) and the ledger gate
    data_tests = {n["name"] for n in everything if n["resource_type"] == "test"}
    assert {n["name"] for n in weekly if n["resource_type"] == "test"} == data_tests
    assert "int_load_ledger_mismatches" in {n["name"] for n in weekly}


def test_old_violation_weekly_new_violation_nightly(shared_warehouse_copy):
    db = str(shared_warehouse_copy.duckdb_path)
    with duckdb.connect(db) as con:
        (watermark,) = con.execute("select max(checked_through) from intermediate.build_checked_through").fetchone()
        assert watermark is not None, "the shared warehouse's passing build recorded its high-water mark"
        # OLD data: an event's duplicate written outside landing, as old as the event (loaded before the mark)
        con.execute("""
            insert into raw.workflow_events
            select * from raw.workflow_events
            where event_id = (select min(event_id) from raw.workflow_events)
        """)
    assert _test(shared_warehouse_copy, COMPANION) is None, "the nightly check looks only at new rows"
    failure = _test(shared_warehouse_copy, FULL)
    assert failure is not None and FULL in failure, failure

    with duckdb.connect(db) as con:
        # NEW data: a duplicate of another old event, landed after the last passing check
        con.execute("""
            insert into raw.workflow_events
            select * replace (cast(? as timestamp) + interval 1 hour as loaded_at)
            from raw.workflow_events
            where event_id = (select max(event_id) from raw.workflow_events)
        """, [watermark])
    failure = _test(shared_warehouse_copy, COMPANION)
    assert failure is not None and COMPANION in failure, failure


def test_grain_and_coverage_old_violation_weekly_new_violation_nightly(shared_warehouse_copy):
    db = str(shared_warehouse_copy.duckdb_path)
    with duckdb.connect(db) as con:
        (watermark,) = con.execute("select max(checked_through) from intermediate.build_checked_through").fetchone()
        # OLD data: a stage attempt's row twice (as old as the row), and a run missing from
        # fct_workflow_runs (its events and every row were loaded / written before the mark)
        con.execute(f"""
            insert into intermediate.{GRAIN_MODEL}
            select * from intermediate.{GRAIN_MODEL}
            where (workflow_id, run_id, stage, attempt) = (
                select (workflow_id, run_id, stage, attempt) from intermediate.{GRAIN_MODEL}
                order by workflow_id, run_id, stage, attempt limit 1)
        """)
        con.execute("""
            delete from marts.fct_workflow_runs
            where (workflow_id, run_id) = (select (workflow_id, run_id) from marts.fct_workflow_runs
                                           order by workflow_id, run_id limit 1)
        """)
    companions = f"{GRAIN_COMPANION} {COVERS_COMPANION}"
    assert _test(shared_warehouse_copy, companions) is None, "the nightly checks look only at new rows"
    failure = _test(shared_warehouse_copy, f"{GRAIN_FULL} {COVERS_FULL}")
    assert failure is not None and GRAIN_FULL in failure and COVERS_FULL in failure, failure

    with duckdb.connect(db) as con:
        # NEW data: another attempt's row repeated by a row written after the mark, and a new event
        # of an old run landed after the mark (fct_workflow_runs not rebuilt: one event short)
        con.execute(f"""
            insert into intermediate.{GRAIN_MODEL}
            select * replace (cast(? as timestamp) + interval 1 hour as max_loaded_at)
            from intermediate.{GRAIN_MODEL}
            where (workflow_id, run_id, stage, attempt) = (
                select (workflow_id, run_id, stage, attempt) from intermediate.{GRAIN_MODEL}
                order by workflow_id desc, run_id desc, stage, attempt limit 1)
        """, [watermark])
        con.execute("""
            insert into raw.workflow_events
            select * replace (event_id || '-late' as event_id, cast(? as timestamp) + interval 1 hour as loaded_at)
            from raw.workflow_events
            where event_id = (select max(event_id) from raw.workflow_events)
        """, [watermark])
    failure = _test(shared_warehouse_copy, companions)
    assert failure is not None and GRAIN_COMPANION in failure and COVERS_COMPANION in failure, failure


def test_ledger_gate_nightly_scope_is_the_loads_landed_after_the_mark(shared_warehouse_copy):
    """int_load_ledger_mismatches' nightly scope (macro ledger_gate_nightly_load_filter): the loads whose
    ledger row or events were loaded after the last passing check, as a literal list; no old load."""
    db = str(shared_warehouse_copy.duckdb_path)
    with duckdb.connect(db) as con:
        (watermark,) = con.execute("select max(checked_through) from intermediate.build_checked_through").fetchone()
        old_loads = {r[0] for r in con.execute("select load_id from raw.load_ledger").fetchall()}
        # a ledger row landed after the mark, and events of a load the ledger lacks landed after it
        con.execute("""
            insert into raw.load_ledger
            select * replace ('n1-ledger-load' as load_id, 'n1-ledger-file' as file_sha256,
                              cast(? as timestamp) + interval 1 hour as loaded_at)
            from raw.load_ledger where load_id = (select min(load_id) from raw.load_ledger)
        """, [watermark])
        con.execute("""
            insert into raw.workflow_events
            select * replace (event_id || '-unledgered' as event_id, 'n1-unledgered-load' as load_id,
                              cast(? as timestamp) + interval 1 hour as loaded_at)
            from raw.workflow_events where event_id = (select min(event_id) from raw.workflow_events)
        """, [watermark])
    prepare_environment(shared_warehouse_copy)
    out = subprocess.run(
        [dbt_executable(), *dbt_args(shared_warehouse_copy, [
            "compile", "--quiet", "--inline",
            "-- depends_on: {{ ref('stg_command_center__load_ledger') }} {{ ref('stg_command_center__workflow_events') }}\n"
            "select 1 where {{ ledger_gate_nightly_load_filter('load_id') }}"])],
        cwd=shared_warehouse_copy.dbt_project_dir, capture_output=True, text=True, check=True,
    ).stdout
    assert "load_id in ('n1-ledger-load', 'n1-unledgered-load')" in out, out
    assert not [load for load in old_loads if load in out], out


def test_nightly_leaves_out_exactly_the_folded_tests(shared_warehouse_copy):
    """The nightly selector leaves out (by name, or the tag nightly_folded) exactly the tests the
    model_tests_folded tests evaluate (orchestration/lib/folded_tests.py, the macro's rule): none is
    dropped from the nightly build, none runs twice."""
    from orchestration.lib.folded_tests import FOLDED_TEST, is_folded

    nightly = {n["name"] for n in _ls(shared_warehouse_copy, "--selector", "nightly", "--resource-type", "test")}
    tests = _ls(shared_warehouse_copy, "--resource-type", "test",
                keys=("name", "resource_type", "tags", "config", "test_metadata", "depends_on"))
    # the tests of the models the nightly build leaves out (the weekly-partitioned snapshot) are not its own
    built = {n["unique_id"] for n in _ls(shared_warehouse_copy, "--selector", "nightly", keys=("unique_id",))}

    members = {t["name"] for t in tests if is_folded(t) and t["depends_on"]["nodes"][0] in built}
    left_out = {t["name"] for t in tests if t["name"] not in nightly and "full_history" not in t["tags"]
                and all(d in built for d in t["depends_on"]["nodes"] if d.startswith("model."))}
    assert members and left_out == members, (sorted(left_out - members)[:10], sorted(members - left_out)[:10])
    kinds = {(t.get("test_metadata") or {}).get("name") for t in tests if t["name"] in members}
    assert {"not_null", "accepted_range", "expression_is_true", "unique", "unique_combination_of_columns"} <= kinds
    # every folded test of a model the nightly build builds runs in it; the weekly-partitioned snapshot's
    # folded test runs with the snapshot in its weekly job, not nightly
    folded = {t["name"]: t["depends_on"]["nodes"] for t in tests if (t.get("test_metadata") or {}).get("name") == FOLDED_TEST}
    assert folded
    assert {n for n, deps in folded.items() if all(d in built for d in deps)} <= nightly
    assert not {n for n, deps in folded.items() if not all(d in built for d in deps)} & nightly


@pytest.mark.parametrize("selection", ["nightly", "weekly_full_checks"])
def test_selector_names_match_the_code(selection):
    import yaml

    from orchestration.bench.runner import NIGHTLY_SELECTOR
    from orchestration.defs.dbt import NIGHTLY_SELECTOR as DAGSTER_NIGHTLY
    from orchestration.defs.dbt import WEEKLY_FULL_CHECKS_SELECTOR
    from orchestration.settings import REPO_ROOT

    names = {s["name"] for s in yaml.safe_load((REPO_ROOT / "selectors.yml").read_text())["selectors"]}
    assert selection in names
    assert NIGHTLY_SELECTOR == DAGSTER_NIGHTLY == "nightly"
    assert WEEKLY_FULL_CHECKS_SELECTOR == "weekly_full_checks"


# --- the log-completeness gate (int_log_completeness_violations): per touched run nightly, every run weekly ---
GATE = "int_log_completeness_violations"


def _gate_rows(db: str) -> set[tuple]:
    """The gate's rows; a freshness row's detail names the clock it was measured at (freshness_as_of is
    not pinned here), so it is left out of the comparison."""
    with duckdb.connect(db, read_only=True) as con:
        rows = con.execute(f"select * from intermediate.{GATE}").fetchall()
    return {r[:5] + ((None,) if r[0] == "freshness" else r[5:]) for r in rows}


def _land_late_terminal_event(settings, watermark, workflow_id: str, run_id: str, event_ts, region: str, tmp_path):
    """Land (through landing, so the ledger matches) a second run_completed of an old run, an hour after
    its end and after the last passing check: one_terminal_event and nothing_after_run_end in new data."""
    from datetime import UTC, timedelta

    from orchestration.lib.landing.load import land_file
    from orchestration.lib.register import load_register
    from orchestration.lib.warehouse import open_warehouse

    path = tmp_path / "late_terminal.jsonl"
    path.write_text(json.dumps({
        "event_id": f"{run_id}-lc-late-end", "workflow_id": workflow_id, "run_id": run_id,
        "event_type": "run_completed", "event_ts": (event_ts + timedelta(hours=1)).isoformat() + "Z",
        "region": region,
    }) + "\n")
    with open_warehouse(settings.duckdb_path) as con:
        result = land_file(con, path, register=load_register(settings.register_path), salt=settings.redaction_salt,
                           now=watermark.replace(tzinfo=UTC) + timedelta(hours=1))
    assert result.rows_loaded == 1 and result.rows_quarantined == 0, result


def test_log_completeness_gate_nightly_per_touched_run_weekly_every_run(shared_warehouse_copy, tmp_path):
    """The nightly build re-evaluates the per-run log-completeness checks of the runs its new loads touch
    (macros/quality/log_completeness/log_completeness_nightly_scope.sql): a violation landed in new data
    fails the nightly build; one planted in old data (outside landing, loaded before the mark) is not the
    nightly build's, and the full evaluation - a plain build, the weekly full check - catches it; apart
    from that planted run, the nightly table equals the full evaluation on the same data."""
    settings = shared_warehouse_copy
    db = str(settings.duckdb_path)
    assert GATE in {n["name"] for n in _ls(settings, "--selector", "weekly_full_checks")}, \
        "the weekly full check re-evaluates every run"
    with duckdb.connect(db) as con:
        (watermark,) = con.execute("select max(checked_through) from intermediate.build_checked_through").fetchone()
        assert watermark is not None
        # two completed telemetry runs whose events were all loaded before the mark
        runs = con.execute("""
            select workflow_id, run_id, event_ts, region from raw.workflow_events
            where event_type = 'run_completed' and log_format = 'telemetry'
                and (workflow_id, run_id) in (
                    select workflow_id, run_id from raw.workflow_events group by 1, 2 having count(*) >= 3)
            order by workflow_id, run_id limit 2
        """).fetchall()
        assert len(runs) == 2
        (old_wf, old_run, _, _), (new_wf, new_run, new_end, new_region) = runs
        # OLD data: a second run_started of an old run, written outside landing, as old as the run
        con.execute("""
            insert into raw.workflow_events
            select * replace (event_id || '-lc-dup-start' as event_id, event_ts + interval 1 minute as event_ts)
            from raw.workflow_events
            where workflow_id = ? and run_id = ? and event_type = 'run_started'
        """, [old_wf, old_run])
        assert con.execute(f"select count(*) from intermediate.{GATE} where run_id in (?, ?)",
                           [old_run, new_run]).fetchone()[0] == 0
    # NEW data: a second terminal event of another old run, landed after the mark
    _land_late_terminal_event(settings, watermark, new_wf, new_run, new_end, new_region, tmp_path)

    try:
        run_dbt(settings, ["build", "--selector", "nightly"])
        failure = None
    except DbtFailed as exc:
        failure = str(exc)
    assert failure is not None and "log_completeness_one_terminal_event" in failure, failure
    assert "log_completeness_one_run_started" not in failure, "the old violation is not the nightly build's"
    nightly = _gate_rows(db)
    assert {(r[0], r[2]) for r in nightly if r[2] == new_run} >= {
        ("one_terminal_event", new_run), ("nothing_after_run_end", new_run)}
    assert not [r for r in nightly if r[2] == old_run]

    # the full evaluation (what a plain build and the weekly full check run): the old violation too
    failure = _test_or_build(settings, ["build", "--select", GATE])
    assert failure is not None and "log_completeness_one_run_started" in failure, failure
    full = _gate_rows(db)
    assert {r[:3] for r in full - nightly} == {("one_run_started", old_wf, old_run)}, full - nightly
    assert nightly - full == set(), "the nightly table equals the full evaluation (but for the planted old run)"


def _test_or_build(settings, args: list[str]) -> str | None:
    try:
        run_dbt(settings, args)
    except DbtFailed as exc:
        return str(exc)
    return None


def _nightly_test_results(settings) -> dict[str, dict]:
    """`dbt test --selector nightly` (the nightly build's tests, no model rebuilt): name -> run result."""
    try:
        run_dbt(settings, ["test", "--selector", "nightly"])
    except DbtFailed:
        pass
    return {r["unique_id"].split(".")[2]: r for r in last_run_results(settings)["results"]
            if r["unique_id"].startswith("test.")}


def _folded_named(settings, result: dict) -> set[str]:
    """The member tests a folded test's rows name (its compiled SQL run again)."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return {row[0] for row in con.execute(result["compiled_code"]).fetchall()}


def test_folded_row_members_new_rows_nightly_every_row_weekly(shared_warehouse_copy):
    """model_tests_folded with watermark_column (macros/generic_tests/model_tests_folded.sql): in the nightly
    build its row members (not_null, accepted_values, ...) look only at the rows touched since the last
    passing check. A violation planted in OLD events (written outside landing, loaded before the mark)
    passes the nightly folded test and fails the member test on its own (the weekly full check, a plain
    build); one in NEW events (loaded after the mark) fails the nightly folded test, which names it."""
    settings = shared_warehouse_copy
    folded = f"model_tests_folded_{STG}_loaded_at"
    log_format = f"accepted_values_{STG}_log_format__telemetry__minimal__xes"
    db = str(settings.duckdb_path)
    with duckdb.connect(db) as con:
        (watermark,) = con.execute("select max(checked_through) from intermediate.build_checked_through").fetchone()
        assert watermark is not None
        # OLD data: a copy of an old event with a log format outside the accepted list, as old as the event
        con.execute("""
            insert into raw.workflow_events
            select * replace (event_id || '-old-format' as event_id, 'bogus_format' as log_format)
            from raw.workflow_events
            where event_id = (select min(event_id) from raw.workflow_events)
                and loaded_at < ?
        """, [watermark])
        assert con.execute("select count(*) from raw.workflow_events where log_format = 'bogus_format'").fetchone()[0] == 1
    results = _nightly_test_results(settings)
    assert folded in results, sorted(n for n in results if n.startswith("model_tests_folded_stg"))
    assert results[folded]["status"] == "pass", "the nightly folded test looks only at new rows"
    assert log_format not in results, "the member runs inside the folded test at night"
    failure = _test(settings, log_format)
    assert failure is not None and log_format in failure, "the member on its own (weekly, plain build) checks every row"

    with duckdb.connect(db) as con:
        # NEW data: a copy of another event with an event type outside the accepted list, loaded after the mark
        con.execute("""
            insert into raw.workflow_events
            select * replace (event_id || '-new-type' as event_id, 'bogus_type' as event_type,
                              cast(? as timestamp) + interval 1 hour as loaded_at)
            from raw.workflow_events
            where event_id = (select max(event_id) from raw.workflow_events)
        """, [watermark])
    results = _nightly_test_results(settings)
    assert results[folded]["status"] == "fail"
    named = _folded_named(settings, results[folded])
    assert len(named) == 1 and next(iter(named)).startswith(f"accepted_values_{STG}_event_type"), named
