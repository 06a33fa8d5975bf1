"""The nightly build's folded tests (macros/generic_tests/model_tests_folded.sql, selectors.yml).

The nightly selector leaves out the single-model tests of a folded kind (not_null, accepted_values,
accepted_range, the expression_is_true tests tagged nightly_folded, the grain tests) as nodes of their own
and runs one `model_tests_folded` test per model instead. Here, on a copy of the shared warehouse: the
folded tests pass where their members pass; after violations are planted (a null, a value outside the
accepted list, a duplicated row, a value outside the accepted range, a false expression and one that
renders a macro), each folded test fails on exactly the member tests that fail when run one by one, and
names them.
"""
from __future__ import annotations

import json

import duckdb
import pytest

from orchestration.lib.dbt import DbtFailed, last_run_results, run_dbt, target_dir

pytestmark = pytest.mark.integration

# two tables the tests may write to: no enforced not_null constraint on the columns planted
IN_FLIGHT = "int_runs_in_flight_states"  # not_null x5 + accepted_values (table, no contract)
BUDGET = "agg_exception_budget_monthly"  # accepted_range x9 + accepted_values (incremental, contract)


def _run_tests(settings, select: str, exclude: str | None = None) -> list[dict]:
    """dbt test of the selection; its run_results entries."""
    args = ["test", "--select", select, *(["--exclude", exclude] if exclude else [])]
    try:
        run_dbt(settings, args)
    except DbtFailed:
        pass
    results = [r for r in last_run_results(settings)["results"] if r["unique_id"].startswith("test.")]
    assert results, f"no test ran for {args}"
    return results


def _failed(results: list[dict]) -> set[str]:
    return {r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")}


def _members(settings) -> set[str]:
    """The names of the folded tests (orchestration/lib/folded_tests.py) in the manifest of the last run."""
    from orchestration.lib.folded_tests import is_folded

    manifest = json.loads((target_dir(settings) / "manifest.json").read_text())
    return {node["name"] for node in manifest["nodes"].values() if is_folded(node)}


def _folded(settings, model: str) -> tuple[set[str], set[str]]:
    """(failed folded tests, the member tests the folded test's rows name)."""
    (result,) = _run_tests(settings, f"{model},test_name:model_tests_folded")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        named = {row[0] for row in con.execute(result["compiled_code"]).fetchall()}
    return _failed([result]), named


def test_folded_tests_fail_on_exactly_the_members_that_fail(shared_warehouse_copy):
    settings = shared_warehouse_copy
    for model in (IN_FLIGHT, BUDGET):
        assert _folded(settings, model) == (set(), set()), "passes on the built warehouse"

    with duckdb.connect(str(settings.duckdb_path)) as con:
        (n,) = con.execute(f"select count(*) from intermediate.{IN_FLIGHT}").fetchone()
        assert n >= 3, "the shared warehouse has runs in flight"
        # a null in one not_null column, a value outside the accepted list in another row, and a third
        # row twice (the grain test, unique_combination_of_columns)
        con.execute(f"""
            update intermediate.{IN_FLIGHT} set state_entered_at = null
            where run_id = (select min(run_id) from intermediate.{IN_FLIGHT})""")
        con.execute(f"""
            update intermediate.{IN_FLIGHT} set waits_on = 'bogus'
            where run_id = (select max(run_id) from intermediate.{IN_FLIGHT})""")
        con.execute(f"""
            insert into intermediate.{IN_FLIGHT}
            select * from intermediate.{IN_FLIGHT}
            where run_id not in (select min(run_id) from intermediate.{IN_FLIGHT}
                                 union all select max(run_id) from intermediate.{IN_FLIGHT})
            limit 1""")
        # in the monthly budget: a rate above 100 % (accepted_range) in one row, more exception runs
        # than runs (a plain expression) and a month starting on its second day (an expression that
        # renders the month_start macro) in another
        con.execute(f"""
            update marts.{BUDGET} set exception_rate_pct = 250
            where month_start = (select min(month_start) from marts.{BUDGET})""")
        con.execute(f"""
            update marts.{BUDGET} set runs_with_exceptions = runs_started + 1,
                month_start = month_start + interval 1 day
            where month_start = (select max(month_start) from marts.{BUDGET})
                and workflow_id = (select min(workflow_id) from marts.{BUDGET})""")

    expected = {
        IN_FLIGHT: {"not_null", "accepted_values", "unique_combination_of_columns"},
        BUDGET: {"accepted_range", "agg_exception_budget_monthly_exception_runs_within_runs",
                 "agg_exception_budget_monthly_month_start_is_first_of_month"},
    }
    for model, planted in expected.items():
        members_failed = _failed(_run_tests(settings, model, exclude="test_name:model_tests_folded"))
        folded_failed_alone = members_failed & _members(settings)
        assert planted <= {name.split("_" + model)[0] for name in folded_failed_alone}, (model, members_failed)
        folded_failed, named = _folded(settings, model)
        assert len(folded_failed) == 1 and next(iter(folded_failed)).startswith(f"model_tests_folded_{model}")
        # the folded test's rows name exactly the member tests that failed on their own
        assert named == folded_failed_alone, (named, members_failed)
