"""The nightly build's folded column tests (macros/generic_tests/column_tests_folded.sql, selectors.yml).

The nightly selector leaves out the single-column not_null / accepted_values / accepted_range tests as
nodes of their own and runs one `column_tests_folded` test per model instead. Here, on a copy of the
shared warehouse: the folded tests pass where their members pass; after violations are planted (a null,
a value outside the accepted list, a value outside the accepted range), each folded test fails on
exactly the member tests that fail when run one by one, and names them.
"""
from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.dbt import DbtFailed, last_run_results, run_dbt

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


def _folded(settings, model: str) -> tuple[set[str], set[str]]:
    """(failed folded tests, the member tests the folded test's rows name)."""
    (result,) = _run_tests(settings, f"{model},test_name:column_tests_folded")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        named = {row[0] for row in con.execute(result["compiled_code"]).fetchall()}
    return _failed([result]), named


def test_folded_tests_fail_on_exactly_the_members_that_fail(shared_warehouse_copy):
    settings = shared_warehouse_copy
    for model in (IN_FLIGHT, BUDGET):
        assert _folded(settings, model) == (set(), set()), "passes on the built warehouse"

    with duckdb.connect(str(settings.duckdb_path)) as con:
        (n,) = con.execute(f"select count(*) from intermediate.{IN_FLIGHT}").fetchone()
        assert n >= 2, "the shared warehouse has runs in flight"
        # a null in one not_null column, a value outside the accepted list in another row
        con.execute(f"""
            update intermediate.{IN_FLIGHT} set state_entered_at = null
            where run_id = (select min(run_id) from intermediate.{IN_FLIGHT})""")
        con.execute(f"""
            update intermediate.{IN_FLIGHT} set waits_on = 'bogus'
            where run_id = (select max(run_id) from intermediate.{IN_FLIGHT})""")
        # a rate above 100 % (accepted_range) in one row of the monthly budget
        con.execute(f"""
            update marts.{BUDGET} set exception_rate_pct = 250
            where month_start = (select min(month_start) from marts.{BUDGET})""")

    for model, planted in ((IN_FLIGHT, {"not_null", "accepted_values"}), (BUDGET, {"accepted_range"})):
        members_failed = _failed(_run_tests(settings, model, exclude="test_name:column_tests_folded"))
        folded_kinds = {name for name in members_failed if name.startswith(("not_null_", "accepted_values_", "accepted_range_"))}
        assert planted == {name.split("_" + model)[0] for name in folded_kinds}, (model, members_failed)
        folded_failed, named = _folded(settings, model)
        assert len(folded_failed) == 1 and next(iter(folded_failed)).startswith(f"column_tests_folded_{model}")
        # the folded test's rows name exactly the member tests that failed on their own
        assert named == folded_kinds, (named, members_failed)
