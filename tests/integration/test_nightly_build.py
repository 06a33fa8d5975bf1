"""The nightly build and the weekly full check (selectors.yml, macros/nightly/nightly_build.sql).

- the selectors: the nightly build leaves out the unit tests, the weekly-partitioned models and the
  whole-history tests (tag full_history) and runs each one's companion; the weekly full check runs every
  data test, the whole-history ones included, and the ledger gate;
- a violation planted in OLD data (a duplicate event_id written outside landing, with an old loaded_at)
  is not the nightly check's: its companion passes, and the full (weekly) check fails on it;
- a violation in NEW data (a duplicate of an old event landed after the last passing check) fails the
  nightly check.
The shared warehouse was built with a plain `dbt build`, which recorded the watermark the companions read.
"""
from __future__ import annotations

import json
import subprocess

import duckdb
import pytest

from orchestration.lib.dbt import DbtFailed, dbt_args, dbt_executable, run_dbt
from orchestration.settings import prepare_environment

STG = "stg_command_center__workflow_events"
COMPANION = f"unique_new_{STG}_event_id"  # the nightly check (generic test unique_touched_since_last_check)
FULL = f"unique_{STG}_event_id"  # the whole-history unique test (tag full_history)


def _ls(settings, *args: str) -> list[dict]:
    prepare_environment(settings)
    out = subprocess.run(
        [dbt_executable(), *dbt_args(settings, ["ls", "--quiet", "--output", "json",
                                                "--output-keys", "name", "resource_type", "tags", *args])],
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
    everything = _ls(shared_warehouse_copy)
    nightly_names = {n["name"] for n in nightly}
    assert not [n for n in nightly if n["resource_type"] == "unit_test"]
    assert not [n for n in nightly if "full_history" in (n.get("tags") or [])]
    assert "fct_slo_weekly_snapshot" not in nightly_names  # the weekly-partitioned model has its own job
    full_history = {n["name"] for n in everything if "full_history" in (n.get("tags") or [])}
    assert FULL in full_history
    # every whole-history (unique) test has its nightly companion, unique_new_<model>_<column>
    for name in full_history:
        assert name.replace("unique_", "unique_new_", 1) in nightly_names, f"{name} has no nightly companion"
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
