"""The schema-migration plan (orchestration/lib/migrations.py) on hand-made manifests and columns, and on
an in-memory DuckDB database (its information_schema spellings)."""
from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.migrations import (
    ColumnDiff,
    apply_migrations,
    candidate_nodes,
    diff_columns,
    normalize_type,
    plan_from_columns,
    plan_migrations,
)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("varchar", "VARCHAR"), ("VARCHAR", "VARCHAR"), ("text", "VARCHAR"), ("string", "VARCHAR"),
        ("varchar(20)", "VARCHAR"), ("character varying", "VARCHAR"),
        ("int", "INTEGER"), ("integer", "INTEGER"), ("int4", "INTEGER"),
        ("bigint", "BIGINT"), ("int8", "BIGINT"), ("long", "BIGINT"),
        ("double", "DOUBLE"), ("double precision", "DOUBLE"), ("float8", "DOUBLE"),
        ("float", "FLOAT"), ("real", "FLOAT"),
        ("boolean", "BOOLEAN"), ("bool", "BOOLEAN"),
        ("timestamp", "TIMESTAMP"), ("TIMESTAMP", "TIMESTAMP"), ("datetime", "TIMESTAMP"),
        ("timestamp without time zone", "TIMESTAMP"),
        ("timestamptz", "TIMESTAMP WITH TIME ZONE"), ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"),
        ("date", "DATE"),
        ("numeric", "DECIMAL(18,3)"), ("decimal(10, 2)", "DECIMAL(10,2)"), ("DECIMAL(10,2)", "DECIMAL(10,2)"),
        ("numeric(12)", "DECIMAL(12,0)"),
        ("INTEGER[]", None), ("STRUCT(a INTEGER)", None), ("", None), (None, None),
    ],
)
def test_normalize_type(spelling, canonical):
    assert normalize_type(spelling) == canonical


def test_same_columns_in_another_order_and_case_and_spelling_is_no_change():
    declared = {"run_id": "varchar", "started_at": "timestamp", "n": "bigint", "_loaded_through": "timestamp"}
    existing = {"N": "BIGINT", "_LOADED_THROUGH": "TIMESTAMP", "RUN_ID": "VARCHAR", "started_at": "TIMESTAMP"}
    diff = diff_columns(declared, existing)
    assert not diff
    assert diff == ColumnDiff()


def test_added_removed_and_retyped_columns():
    declared = {"run_id": "varchar", "n": "bigint", "share": "double", "_loaded_through": "timestamp"}
    existing = {"run_id": "VARCHAR", "n": "INTEGER", "share": "DOUBLE", "legacy": "VARCHAR"}
    diff = diff_columns(declared, existing)
    assert diff.added == ("_loaded_through",)
    assert diff.removed == ("legacy",)
    assert diff.retyped == (("n", "INTEGER", "BIGINT"),)
    assert diff.describe() == (
        "new column(s) _loaded_through; column(s) no longer declared legacy; type change(s) n INTEGER -> BIGINT"
    )


def test_a_rename_is_one_column_added_and_one_removed():
    diff = diff_columns({"region": "varchar", "id": "varchar"}, {"region_code": "VARCHAR", "id": "VARCHAR"})
    assert (diff.added, diff.removed, diff.retyped) == (("region",), ("region_code",), ())


def test_types_that_do_not_normalise_are_not_compared():
    # a list type, or a contract without data_type: names only, never a false alarm
    assert not diff_columns({"tags": "varchar[]", "x": None}, {"tags": "VARCHAR[]", "x": "BIGINT"})
    assert not diff_columns({"tags": "text[]"}, {"tags": "VARCHAR[]"})


def _node(name, *, columns, materialized="incremental", contract=True, on_schema_change="fail",
          full_refresh=None, schema="marts"):
    return {
        "unique_id": f"model.command_center.{name}", "resource_type": "model", "name": name, "alias": name,
        "schema": schema,
        "config": {"materialized": materialized, "on_schema_change": on_schema_change,
                   "full_refresh": full_refresh, "contract": {"enforced": contract}},
        "columns": {c: {"name": c, "data_type": t} for c, t in columns.items()},
    }


def _manifest(*nodes):
    return {"nodes": {n["unique_id"]: n for n in nodes}}


MANIFEST = _manifest(
    _node("fct_a", columns={"id": "varchar", "_loaded_through": "timestamp"}),
    _node("fct_b", columns={"id": "varchar", "v": "double"}),
    _node("fct_new", columns={"id": "varchar"}),  # not built yet
    _node("int_uncontracted", columns={"id": None}, contract=False, schema="intermediate"),
    _node("fct_snapshot", columns={"week": "date"}, on_schema_change="append_new_columns", full_refresh=False),
    _node("fct_history", columns={"week": "date"}, full_refresh=False),
    _node("fct_synced", columns={"id": "varchar"}, on_schema_change="sync_all_columns"),
    _node("dim_table", columns={"id": "varchar"}, materialized="table"),
)


def test_candidates_are_the_incremental_models_a_column_change_stops():
    checked, unchecked = candidate_nodes(MANIFEST)
    assert [n["name"] for n in checked] == ["fct_a", "fct_b", "fct_new"]
    assert unchecked == ["int_uncontracted"]


def test_plan_lists_exactly_the_tables_that_differ():
    existing = {
        ("marts", "fct_a"): {"id": "VARCHAR"},  # the old release: no build-state column yet
        ("marts", "fct_b"): {"ID": "VARCHAR", "V": "DOUBLE"},  # up to date
        ("marts", "dim_table"): {"other": "VARCHAR"},  # a table model: rebuilt every build anyway
        ("marts", "fct_history"): {"old": "DATE"},  # full_refresh false: never rebuilt
    }
    plan = plan_from_columns(MANIFEST, existing)
    assert plan.models == ["fct_a"]
    (m,) = plan.migrations
    assert (m.relation, m.diff.added, m.old_columns, m.new_columns) == (
        "marts.fct_a", ("_loaded_through",), ("id",), ("id", "_loaded_through"))
    assert plan.unchecked == ("int_uncontracted",)
    text = plan.describe()
    assert "marts.fct_a: new column(s) _loaded_through" in text and "fct_b" not in text
    assert "not checked (no enforced contract): int_uncontracted" in text


def test_an_up_to_date_warehouse_plans_nothing():
    existing = {("marts", "fct_a"): {"id": "VARCHAR", "_loaded_through": "TIMESTAMP"},
                ("marts", "fct_b"): {"id": "VARCHAR", "v": "DOUBLE"}}
    plan = plan_from_columns(MANIFEST, existing)
    assert not plan and plan.models == []
    assert plan.describe().startswith("schema migration: nothing to migrate")


def test_plan_and_apply_on_duckdb():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.fct_a (id varchar not null)")
    con.execute("create table marts.fct_b (id varchar, v double)")
    con.execute("create view marts.v_a as select * from marts.fct_a")  # a reader of the dropped table
    con.execute("create view marts.fct_new as select 'x' as other")  # a view is not a stale table
    plan = plan_migrations(MANIFEST, con)
    assert plan.models == ["fct_a"]
    assert apply_migrations(con, plan) == ["marts.fct_a"]
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert "fct_a" not in tables and "fct_b" in tables
    assert not plan_migrations(MANIFEST, con)  # nothing left to migrate
    assert apply_migrations(con, plan_migrations(MANIFEST, con)) == []


def test_the_plan_reads_a_manifest_newer_than_every_project_file(tmp_path):
    """current_manifest parses only when target/manifest.json is missing or older than a file dbt parses."""
    import os

    from orchestration.lib.dbt import manifest_outdated

    (tmp_path / "dbt_project.yml").write_text("name: p\nmodel-paths: [models]\n")
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "fct_a.sql"
    model.write_text("select 1 as id\n")
    (tmp_path / "profiles.yml").write_text("p: {}\n")
    manifest = tmp_path / "target" / "manifest.json"
    assert manifest_outdated(manifest, tmp_path, tmp_path)  # missing
    manifest.parent.mkdir()
    manifest.write_text("{}")
    for path in (tmp_path / "dbt_project.yml", tmp_path / "profiles.yml", model):
        os.utime(path, (1_000_000, 1_000_000))
    assert not manifest_outdated(manifest, tmp_path, tmp_path)
    os.utime(model, None)  # a model edited after the manifest: a new release
    os.utime(manifest, (2_000_000, 2_000_000))
    assert manifest_outdated(manifest, tmp_path, tmp_path)
