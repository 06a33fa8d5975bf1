"""NOT NULL is enforced by the database on models with an enforced contract (table or incremental).

Such a model's `not_null` column constraint is part of the table's DDL (dbt-duckdb creates the table with
its contract's columns and constraints, then inserts; Snowflake likewise), so a NULL in new data fails the
model's own build, before any test runs - which is why those columns carry a constraint instead of a
`not_null` data test (tests/integration/test_manifest_conventions.py: a key needs one or the other).
Proved here on both incremental strategies the project uses, the way the nightly build materializes them:

- delete+insert (the incremental intermediates): a new event whose region is NULL (written outside landing,
  whose raw table is NOT NULL too) reaches int_run_week_costs_aggregated: its incremental run fails, even
  when the table was built before its contract (its pre_hook ensure_not_null_constraints adds the missing
  constraint first);
- append (the incremental marts): a new run summary whose region is NULL reaches fct_workflow_runs: its
  incremental run fails; neither table holds the NULL afterwards.
"""
from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.dbt import DbtFailed, last_run_results, run_dbt

pytestmark = pytest.mark.integration

DELETE_INSERT = "int_run_week_costs_aggregated"  # intermediate, incremental delete+insert, region not null
APPEND = "fct_workflow_runs"  # mart, incremental append, region not null


def test_a_null_in_new_data_fails_the_incremental_build(shared_warehouse_copy):
    db = str(shared_warehouse_copy.duckdb_path)
    with duckdb.connect(db) as con:
        nullable = con.execute("""
            select table_name, column_name from information_schema.columns
            where table_name in (?, ?) and column_name = 'region' and is_nullable = 'YES'
        """, [DELETE_INSERT, APPEND]).fetchall()
        assert nullable == [], "the contract's not_null constraint is in the table's DDL"
        # a table built before its contract had the constraint: the model's pre_hook ensure_not_null_constraints
        # adds it back before the incremental insert
        con.execute(f"alter table intermediate.{DELETE_INSERT} alter column region drop not null")
        (loaded_through,) = con.execute("select max(loaded_at) from raw.workflow_events").fetchone()
        # a new event with no region, landed after everything built (outside landing: raw is NOT NULL too)
        con.execute("alter table raw.workflow_events alter column region drop not null")
        con.execute("""
            insert into raw.workflow_events
            select * replace ('n4_null_region_event' as event_id, 'n4_null_region_run' as run_id,
                              null as region, cast(? as timestamp) + interval 1 hour as loaded_at)
            from raw.workflow_events
            where event_id = (select min(event_id) from raw.workflow_events where event_type = 'run_started')
        """, [loaded_through])
        # and a new run summary with no region for the mart (the intermediate's own constraint dropped)
        con.execute("alter table intermediate.int_runs_summarized alter column region drop not null")
        con.execute("""
            insert into intermediate.int_runs_summarized
            select * replace ('n4_null_region_run' as run_id, null as region,
                              cast(? as timestamp) + interval 1 hour as max_loaded_at)
            from intermediate.int_runs_summarized
            order by workflow_id, run_id limit 1
        """, [loaded_through])

    # one model per invocation: the mart reads the intermediate's table (through int_build_state), so
    # a failed intermediate would skip it in the same run
    for model in (DELETE_INSERT, APPEND):
        with pytest.raises(DbtFailed):
            run_dbt(shared_warehouse_copy, ["run", "--select", model])
        results = {r["unique_id"].split(".")[-1]: r for r in last_run_results(shared_warehouse_copy)["results"]}
        assert results[model]["status"] == "error", results[model]
        message = results[model]["message"] or ""
        assert "NOT NULL constraint failed" in message and f"{model}.region" in message, message
    with duckdb.connect(db, read_only=True) as con:
        for schema, table in (("intermediate", DELETE_INSERT), ("marts", APPEND)):
            (nulls,) = con.execute(f"select count(*) from {schema}.{table} where region is null").fetchone()
            assert nulls == 0, f"{table} kept a NULL region"
