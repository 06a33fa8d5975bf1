"""The Snowflake portability check itself (orchestration/lib/portability.py), on SQL that must pass
and SQL that must fail, plus the pure helpers of the Snowflake landing (DDL, connection settings)."""
from __future__ import annotations

import pytest

from orchestration.lib.contract import LEDGER_DDL, RAW_EVENTS_DDL
from orchestration.lib.landing import LandingError
from orchestration.lib.portability import SNOWFLAKE_FUNCTIONS, check_executed_sql, check_sql, function_calls
from orchestration.lib.snowflake_landing import columns_of, connection_args, snowflake_ddl, uses_snowflake

# What the cross_db macros render for Snowflake: must pass.
SNOWFLAKE_OK = [
    "select percentile_cont(0.9) within group (order by x) as p90 from t",
    "select cast(timestampdiff(microsecond, a, b) as double) / 1000000.0 from t",
    "select cast(dateadd(day, 1 - dayofweekiso(ts), to_date(ts)) as date) from t",
    "select json_extract_path_text(to_varchar(attributes), '\"trigger\"') from raw.workflow_events",
    "select listagg(distinct region, ',') within group (order by region) from t group by w",
    "select t.*, cast(dateadd(day, spine.value::integer * 7, t.s) as date) as week_start from t, "
    "lateral flatten(input => array_generate_range(0, cast(floor(datediff(day, t.s, t.e) / 7) as integer) + 1)) "
    "as spine",
    "select md5(coalesce(to_varchar(a), '_null_') || '|' || coalesce(to_varchar(b), '_null_')) from t",
    "select cast(x as number(38, 0)), try_cast(y as character varying(16)) from t where a in (1, 2) "
    "and exists (select 1 from u) and not (b = 1)",
    "select round(avg(x), 6), row_number() over (partition by a order by b) from (values (1.0), (2.0)) as v (x)",
]

# DuckDB-only spellings: each must be reported by name.
DUCKDB_ONLY = {
    "quantile_cont": "select quantile_cont(x, 0.5) from t",
    "date_diff": "select date_diff('microsecond', a, b) from t",
    "list_aggregate": "select list_aggregate(list(x), 'sum') from t",
    "json_extract_string": "select json_extract_string(attributes, '$.trigger') from t",
    "epoch": "select epoch(ts) from t",
    "epoch_ms": "select epoch_ms(ts) from t",
    "string_agg": "select string_agg(distinct x, ',' order by x) from t",
    "generate_series": "select * from t cross join lateral generate_series(a, b, interval 7 day) as s(p)",
    "to_microseconds": "select ts + to_microseconds(5) from t",
    "strftime": "select strftime(ts, '%Y') from t",
    "sha256": "select sha256(x) from t",
}


@pytest.mark.parametrize("sql", SNOWFLAKE_OK)
def test_snowflake_sql_passes(sql):
    assert check_sql(sql) == []


@pytest.mark.parametrize("name", sorted(DUCKDB_ONLY))
def test_duckdb_only_functions_are_reported(name):
    findings = check_sql(DUCKDB_ONLY[name], path="m.sql")
    assert any(f"calls {name}()" in f.problem for f in findings), findings
    assert all(f.path == "m.sql" for f in findings)


def test_unparseable_snowflake_is_reported():
    findings = check_sql("select struct_pack(a := 1) from t")
    assert findings
    assert all("struct_pack" in f.problem or "not valid Snowflake SQL" in f.problem for f in findings)


def test_executed_statements_are_checked_and_adapter_metadata_skipped():
    """The statements of a dbt run (hooks, delete+insert): the project's are checked, dbt-snowflake's own
    metadata and transaction statements are not."""
    statements = [
        ("model.p.m", '/* {"app": "dbt"} */ show terse objects in schema db.marts'),
        ("model.p.m", "begin"),
        ("model.p.m", "delete from db.marts.m where (a, b) in (select a, b from db.intermediate.i)"),
        ("model.p.m", "insert into db.marts.m select quantile_cont(x, 0.5) from db.intermediate.i"),
        ("model.p.m", "commit"),
    ]
    checked, findings = check_executed_sql(statements)
    assert checked == 2
    assert [f.problem.split(",")[0] for f in findings] == ["calls quantile_cont()"]
    assert findings[0].path == "model.p.m (executed statement 3)"


# Subquery operators where Snowflake refuses them (SQL reference, "Subquery operators": an ANY / ALL
# subquery only in a WHERE clause and never an argument of OR; [NOT] IN (query) is = ANY / != ALL).
MISPLACED_SUBQUERIES = {
    "delete from t where a = 1 or (x, y) in (select x, y from s)": "as an argument of OR",
    "select * from t where b = 2 or (a = 1 and x in (select x from s))": "as an argument of OR",
    "select * from t where x not in (select x from s) or y = 2": "as an argument of OR",
    "select * from t where x = any (select x from s) or y = 2": "as an argument of OR",
    "select * from t where x in (select x from s where a = 1 or b in (select b from u))": "as an argument of OR",
    "select case when x in (select x from s) then 1 end from t": "outside a WHERE clause",
    "select * from t join u on t.x in (select x from s)": "outside a WHERE clause",
}

# What the same tests look like where Snowflake accepts them: must pass.
PLACED_SUBQUERIES = [
    "select * from t where x in (select x from s) and y = 2",
    "delete from t where (x, y) in (select x, y from s where a = 1 or b = 2)",
    "select * from t where x in (1, 2) or y = 2",
    # matches_query_row's Snowflake form: a correlated count (a scalar subquery) under OR
    "delete from t where a = 1 or (select count(*) from (select q.x as _query_row_key_1 from (select x from s) "
    "as q) as k where _query_row_key_1 = x) > 0",
    "select * from t where exists (select 1 from s) or y = 2",
]


@pytest.mark.parametrize("sql", sorted(MISPLACED_SUBQUERIES))
def test_subquery_operators_where_snowflake_refuses_them_are_reported(sql):
    findings = check_sql(sql)
    assert len(findings) == 1 and MISPLACED_SUBQUERIES[sql] in findings[0].problem, findings


@pytest.mark.parametrize("sql", PLACED_SUBQUERIES)
def test_subquery_operators_where_snowflake_accepts_them_pass(sql):
    assert check_sql(sql) == []


def test_function_calls_skip_syntax_types_and_aliases():
    sql = (
        "with a as (select cast(x as varchar(10)) as y, x::number(38, 0) as z from t as u (x) "
        "where x in (1) and exists (select 1)) select count(*) over (partition by y) from a"
    )
    assert function_calls(sql) == ["cast", "count"]


def test_allow_list_holds_no_duckdb_only_names():
    assert not SNOWFLAKE_FUNCTIONS & set(DUCKDB_ONLY)


def test_snowflake_ddl_of_the_contract():
    events = snowflake_ddl(RAW_EVENTS_DDL)
    assert "attributes          variant" in events and " json" not in events
    assert "event_ts            timestamp_ntz not null" in events
    ledger = snowflake_ddl(LEDGER_DDL)
    assert "check" not in ledger and ledger.rstrip().endswith(")")
    assert "loaded_at           timestamp_ntz not null" in ledger
    transient = snowflake_ddl(RAW_EVENTS_DDL, json_type="varchar", table="raw._cc_x", kind="transient")
    assert transient.startswith("create transient table raw._cc_x (") and "attributes          varchar" in transient
    assert columns_of(RAW_EVENTS_DDL)[:3] == ["event_id", "workflow_id", "run_id"]
    assert len(columns_of(RAW_EVENTS_DDL)) == 25 and columns_of(LEDGER_DDL)[9] == "loaded_at"
    # who landed travels to Snowflake; the content fingerprint is DuckDB's (decimal, not shipped)
    assert columns_of(LEDGER_DDL)[10:] == ["landed_by_user", "landed_on_host", "landed_by_pid", "landing_run_id",
                                           "first_event_ts"]
    assert "first_event_ts      timestamp_ntz," in ledger


def test_connection_args_from_the_environment():
    env = {
        "SNOWFLAKE_ACCOUNT": "acme-eu1", "SNOWFLAKE_USER": "loader", "SNOWFLAKE_PASSWORD": "pw",
        "SNOWFLAKE_WAREHOUSE": "WH", "SNOWFLAKE_DATABASE": "CC", "SNOWFLAKE_AUTHENTICATOR": "snowflake",
        "SNOWFLAKE_PORT": "8080", "SNOWFLAKE_ROLE": "",
    }
    args = connection_args(env)
    assert args == {"account": "acme-eu1", "user": "loader", "password": "pw", "warehouse": "WH",
                    "database": "CC", "port": 8080, "schema": "raw"}
    key_pair = connection_args({**env, "SNOWFLAKE_PRIVATE_KEY_PATH": "/k.p8", "SNOWFLAKE_AUTHENTICATOR": ""})
    assert key_pair["private_key_file"] == "/k.p8" and "password" not in key_pair
    assert key_pair["authenticator"] == "SNOWFLAKE_JWT"
    with pytest.raises(LandingError, match="SNOWFLAKE_ACCOUNT"):
        connection_args({"SNOWFLAKE_USER": "x"})


def test_sink_follows_the_dbt_target(monkeypatch):
    assert uses_snowflake("snowflake") and uses_snowflake(" Snowflake ")
    assert not uses_snowflake("duckdb")
    monkeypatch.delenv("COMMAND_CENTER_DBT_TARGET", raising=False)
    assert not uses_snowflake()
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "snowflake")
    assert uses_snowflake()
