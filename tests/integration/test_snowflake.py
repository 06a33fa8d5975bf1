"""The same models on Snowflake, proven without an account.

A local fakesnow server (``fakesnow -s``: the Snowflake wire protocol, executed on DuckDB) stands in
for Snowflake. The small generated data set is landed twice - into DuckDB by ``command-center
ingest``, and into fakesnow by the same command with ``COMMAND_CENTER_DBT_TARGET=snowflake`` (the
Snowflake sink: stage + COPY INTO, one transaction per file) - and built twice - ``command-center
build`` on DuckDB, ``dbt build --target snowflake`` against fakesnow. Every mart must come out the
same. Because fakesnow runs on DuckDB it would also accept DuckDB-only SQL, so the SQL compiled for
the snowflake target is checked separately against Snowflake's function list (portability check).

Not compared / not run on fakesnow (and why) - docs/scale.md "Proving it without an account":
* dbt unit tests: dbt-snowflake runs them through ``create temporary table <db>.<schema>.<name>``,
  which fakesnow cannot create; they are engine-independent fixtures and run on DuckDB.
* ``fct_slo_weekly_snapshot.snapshotted_at``: the wall-clock time of each build.
* GRANT statements: fakesnow cannot parse GRANT, so grants are checked as rendered statements.
"""
from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.portability import check_compiled_dir
from orchestration.lib.register import load_register
from orchestration.settings import REPO_ROOT

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
DATABASE = "COMMAND_CENTER_E2E"
SALT = "test-salt-for-both-engines"
#: Columns that legitimately differ between two builds of the same data.
NOT_COMPARED = {("fct_slo_weekly_snapshot", "snapshotted_at"),
                # the landing marts: each warehouse's own landing draws its load_id and has its own
                # clock and process (the row counts, formats, paths and reasons are compared)
                ("fct_landed_files", "load_id"), ("fct_landed_files", "loaded_at"),
                ("fct_landed_files", "landed_by_pid"), ("fct_landed_files", "landing_run_id"),
                ("agg_quarantine_reasons", "load_id"), ("agg_quarantine_reasons", "quarantined_at")}
#: The marts built from the governance log (models/marts/governance_audit). The Snowflake sink does not land
#: governance logs yet (docs/governance-log.md), so this test lands none on either engine: their SQL is built
#: on both and both must be empty. Their values are tested on DuckDB (test_governance_marts.py).
FROM_GOVERNANCE_LOG = {"fct_playbook_executions", "fct_governance_violations", "agg_governance_violations_weekly"}
#: Columns starting with "_" are incremental bookkeeping (doc mart_build_state: the landing clock of
#: each warehouse's own loads), not compared either.
#: Schemas a register role must never be granted anything on.
PRIVATE_SCHEMAS = ("raw", "governance", "staging", "intermediate")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fakesnow_server(tmp_path_factory):
    """``fakesnow -s -p PORT`` in a subprocess for this module; fails loudly if it does not come up."""
    exe = BIN / "fakesnow"
    if not exe.exists():
        pytest.fail(f"fakesnow is not installed beside {sys.executable} (it is pinned in requirements.lock)")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("fakesnow") / "fakesnow.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [str(exe), "-s", "-p", str(port), "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"fakesnow exited with {proc.returncode} at start:\n{log_path.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"fakesnow did not listen on port {port} within 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
    yield {"port": port, "log": log_path}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
    log.close()


def _snowflake_env(port: int, database: str = DATABASE) -> dict[str, str]:
    return {
        "SNOWFLAKE_ACCOUNT": "fakesnow", "SNOWFLAKE_USER": "command_center", "SNOWFLAKE_PASSWORD": "fake",
        "SNOWFLAKE_HOST": "127.0.0.1", "SNOWFLAKE_PORT": str(port), "SNOWFLAKE_PROTOCOL": "http",
        "SNOWFLAKE_WAREHOUSE": "COMMAND_CENTER_WH", "SNOWFLAKE_DATABASE": database, "SNOWFLAKE_ROLE": "",
        "SNOWFLAKE_THREADS": "4",
    }


def _base_env(cc_env, tmp: Path) -> dict[str, str]:
    return cc_env.environ(tmp, duckdb=tmp / "warehouse.duckdb", drop_prefixes=("SNOWFLAKE_", "DBT_", "COMMAND_CENTER_"),
                          extra={"COMMAND_CENTER_REDACTION_SALT": SALT})


def _run(args: list[str], env: dict[str, str], what: str, timeout: int = 600) -> str:
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


@pytest.fixture(scope="module")
def builds(tmp_path_factory, fakesnow_server, cc_env):
    """The same generated data landed and built on DuckDB and on fakesnow."""
    tmp = tmp_path_factory.mktemp("snowflake_e2e")
    events = tmp / "events.parquet"
    base = _base_env(cc_env, tmp)
    cli = str(BIN / "command-center")
    _run([cli, "generate", "--days", "14", "--runs-per-day", "4", "--seed", "3", "--end-date", "2026-11-23",
          "--out", str(events)], base, "generate")
    # the generated sample resolves every exception; one left open fills the backlog mart too
    open_exception = tmp / "open_exception.jsonl"
    open_exception.write_text("\n".join(json.dumps(e) for e in [
        {"event_id": "open-1", "workflow_id": "fulfillment_v2", "run_id": "open-run", "event_type": "run_started",
         "event_ts": "2026-11-22T20:00:00Z", "region": "us-east-1"},
        {"event_id": "open-2", "workflow_id": "fulfillment_v2", "run_id": "open-run", "event_type": "exception_raised",
         "event_ts": "2026-11-22T20:05:00Z", "region": "us-east-1", "exception_id": "open-exc",
         "exception_class": "VALIDATION", "severity": 2, "actor": "system"},
    ]) + "\n")
    files = [str(events), str(open_exception)]

    duck_env = {**base, "COMMAND_CENTER_DBT_TARGET": "duckdb", "DBT_TARGET_PATH": str(tmp / "target_duckdb"),
                "DBT_LOG_PATH": str(tmp / "logs_duckdb")}
    started = time.monotonic()
    duck_ingest = _run([cli, "ingest", *files], duck_env, "command-center ingest (duckdb)")
    _run([cli, "build"], duck_env, "command-center build (duckdb)")
    duck_seconds = time.monotonic() - started

    sf_env = {**base, **_snowflake_env(fakesnow_server["port"]), "COMMAND_CENTER_DBT_TARGET": "snowflake",
              "DBT_TARGET_PATH": str(tmp / "target_snowflake"), "DBT_LOG_PATH": str(tmp / "logs_snowflake"),
              # the on-run-end grant hook only logs: fakesnow cannot execute GRANT
              "COMMAND_CENTER_GRANTS_DRY_RUN": "true"}
    started = time.monotonic()
    sf_ingest = _run([cli, "ingest", *files], sf_env, "command-center ingest (snowflake sink)")
    sf_reingest = _run([cli, "ingest", *files], sf_env, "command-center ingest again (snowflake sink)")
    sf_build = _run([str(BIN / "dbt"), "--log-format", "json", "build", "--target", "snowflake",
                     "--exclude-resource-type", "unit_test"], sf_env, "dbt build --target snowflake (fakesnow)")
    sf_seconds = time.monotonic() - started
    print(f"duckdb land+build {duck_seconds:.1f} s; fakesnow land+build {sf_seconds:.1f} s")
    return {
        "tmp": tmp, "events": events, "duckdb": Path(base["COMMAND_CENTER_DUCKDB"]), "sf_env": sf_env,
        "duck_ingest": duck_ingest, "sf_ingest": sf_ingest, "sf_reingest": sf_reingest, "sf_build": sf_build,
    }


def _sf_connect(env: dict[str, str]):
    from orchestration.lib.snowflake_landing import connect

    return connect(env, network_timeout=120, login_timeout=30)


# --------------------------------------------------------------------------------------------------
# comparing tables
# --------------------------------------------------------------------------------------------------


def _norm(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _sort_key(row):
    return tuple((0, "") if v is None else (1, f"{v:.6f}" if isinstance(v, float) else str(v)) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def _duckdb_table(con, schema: str, table: str, columns: list[tuple[str, str]]):
    cols = ", ".join(f'"{c}"' for c, _ in columns)
    return [tuple(_norm(v) for v in row) for row in con.execute(f"select {cols} from {schema}.{table}").fetchall()]


def _snowflake_table(cur, schema: str, table: str, columns: list[tuple[str, str]]):
    # timestamps and dates travel as text: fakesnow's server returns a null TIMESTAMP as 1970-01-01
    select = ", ".join(
        f"cast({c} as varchar)" if t.upper().startswith(("TIMESTAMP", "DATE")) else c for c, t in columns
    )
    cur.execute(f"select {select} from {DATABASE}.{schema}.{table}")
    rows = []
    for row in cur.fetchall():
        out = []
        for (_, t), v in zip(columns, row, strict=True):
            if v is not None and t.upper().startswith("TIMESTAMP"):
                v = datetime.fromisoformat(v)
            elif v is not None and t.upper() == "DATE":
                v = date.fromisoformat(v[:10])
            out.append(_norm(v))
        rows.append(tuple(out))
    return rows


def _differences(table: str, columns, duck_rows, sf_rows) -> list[str]:
    if len(duck_rows) != len(sf_rows):
        return [f"{table}: {len(duck_rows)} rows on DuckDB, {len(sf_rows)} on Snowflake"]
    problems = []
    for d_row, s_row in zip(sorted(duck_rows, key=_sort_key), sorted(sf_rows, key=_sort_key), strict=True):
        for (name, _), d, s in zip(columns, d_row, s_row, strict=True):
            if not _same(d, s):
                problems.append(f"{table}.{name}: DuckDB {d!r} vs Snowflake {s!r} (row {d_row[:4]})")
    return problems[:20]


# --------------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------------


def test_snowflake_landing_matches_duckdb(builds):
    """Same rows loaded and quarantined (reason, detail, redacted raw record), one ledger row each,
    and landing the same file again changes nothing."""
    summaries = [ln for ln in builds["duck_ingest"].splitlines() if ": read " in ln]
    assert len(summaries) == 2 and all(line in builds["sf_ingest"] for line in summaries)
    assert "0 file(s) landed, 2 already loaded" in builds["sf_reingest"]

    queries = {
        "events": "select count(*), count(distinct event_id), sum(source_row_number) from {s}.workflow_events",
        "quarantine": "select source_row_number, reason_code, reason_detail, raw_record, event_id "
                      "from {s}.quarantine order by source_row_number",
        "ledger": "select file_sha256, file_format, log_format, file_bytes, rows_read, rows_loaded, rows_quarantined "
                  "from {s}.load_ledger order by file_sha256",
    }
    with duckdb.connect(str(builds["duckdb"]), read_only=True) as duck:
        expected = {k: duck.execute(q.format(s="raw")).fetchall() for k, q in queries.items()}
        redacted_duck = duck.execute(
            "select count(*) from raw.workflow_events where json_extract_string(attributes, '$.customer_email') "
            "like 'sha256:%'"
        ).fetchone()[0]
    con = _sf_connect(builds["sf_env"])
    try:
        cur = con.cursor()
        got = {}
        for k, q in queries.items():
            cur.execute(q.format(s=f"{DATABASE}.raw"))
            got[k] = [tuple(_norm(v) for v in r) for r in cur.fetchall()]
        cur.execute(
            f"select count(*) from {DATABASE}.raw.workflow_events "
            "where json_extract_path_text(to_varchar(attributes), 'customer_email') like 'sha256:%'"
        )
        redacted_sf = cur.fetchone()[0]
    finally:
        con.close()
    for k in queries:
        assert got[k] == [tuple(_norm(v) for v in r) for r in expected[k]], k
    assert all(row[4] == row[5] + row[6] for row in expected["ledger"])  # conservation
    assert redacted_duck > 0 and redacted_sf == redacted_duck


def test_every_mart_matches_duckdb(builds):
    """Every mart table: same row count, same values (numbers within 1e-9 relative), any row order."""
    con = _sf_connect(builds["sf_env"])
    compared, problems = [], []
    try:
        cur = con.cursor()
        with duckdb.connect(str(builds["duckdb"]), read_only=True) as duck:
            tables = [r[0] for r in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()]
            assert len(tables) >= 12, tables
            for table in tables:
                columns = [
                    (c, t) for c, t in duck.execute(
                        "select column_name, data_type from information_schema.columns "
                        "where table_schema = 'marts' and table_name = ? order by ordinal_position", [table]
                    ).fetchall() if (table, c) not in NOT_COMPARED and not c.startswith("_")
                ]
                duck_rows = _duckdb_table(duck, "marts", table, columns)
                sf_rows = _snowflake_table(cur, "marts", table, columns)
                if table in FROM_GOVERNANCE_LOG:
                    assert not duck_rows and not sf_rows, f"{table}: no governance log was landed, yet it has rows"
                    compared.append(f"{table} (built empty on both: no governance log landed)")
                    continue
                problems += _differences(table, columns, duck_rows, sf_rows)
                compared.append(f"{table} ({len(duck_rows)} rows)")
                assert duck_rows, f"{table} is empty on DuckDB: the comparison would prove nothing"
    finally:
        con.close()
    print("compared:", ", ".join(compared))
    assert not problems, "\n".join(problems)


def _dbt_log_lines(stdout: str, prefix: str) -> list[str]:
    lines = []
    for line in stdout.splitlines():
        try:
            message = json.loads(line)["info"]["msg"]
        except (ValueError, KeyError, TypeError):
            continue
        if message.startswith(prefix):
            lines.append(message[len(prefix):].removesuffix(" (dry run)"))
    return lines


def test_register_roles_get_select_on_marts_only(builds):
    """Roles with read_metrics in the register (ops_viewer, ops_controller) get usage + select on every
    mart and nothing on raw / quarantine / governance / staging / intermediate; other roles get nothing."""
    out = _run([str(BIN / "dbt"), "--log-format", "json", "run-operation", "grant_register_roles", "--target",
                "snowflake", "--args", "{dry_run: true}"], builds["sf_env"], "dbt run-operation grant_register_roles")
    statements = _dbt_log_lines(out, "grant_register_roles: ")
    register = load_register(REPO_ROOT / "command_center.yml")
    readers = sorted(r.name for r in register.rbac.roles if "read_metrics" in r.permissions)
    assert readers == ["ops_controller", "ops_viewer"]
    with duckdb.connect(str(builds["duckdb"]), read_only=True) as duck:
        marts = [r[0] for r in duck.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]
    expected = []
    for role in readers:
        expected += [f"grant usage on database {DATABASE} to role {role}",
                     f"grant usage on schema {DATABASE}.marts to role {role}"]
        expected += [f"grant select on table {DATABASE}.marts.{m} to role {role}" for m in marts]
    assert statements == expected
    # the same statements come out of dbt build's on-run-end hook (dbt_project.yml)
    assert _dbt_log_lines(builds["sf_build"], "grant_register_roles: ") == expected
    for statement in statements:
        assert not any(f".{schema}" in statement.lower() for schema in PRIVATE_SCHEMAS), statement
        assert "change_authority" not in statement

    masking = _run([str(BIN / "dbt"), "--log-format", "json", "run-operation", "apply_redaction_masking_policy",
                    "--target", "snowflake"], builds["sf_env"], "dbt run-operation apply_redaction_masking_policy")
    policy = _dbt_log_lines(masking, "apply_redaction_masking_policy: ")
    assert len(policy) == 2
    for field in register.data_controls.redaction.fields:
        assert f"'{field}'" in policy[0]
    assert policy[1] == (f"alter table {DATABASE}.raw.workflow_events modify column attributes set masking policy "
                         f"{DATABASE}.governance.redacted_attributes force")


def test_duckdb_grant_hooks_are_a_no_op(builds):
    env = {**builds["sf_env"], "COMMAND_CENTER_DBT_TARGET": "duckdb"}
    out = _run([str(BIN / "dbt"), "--log-format", "json", "run-operation", "grant_register_roles", "--target", "duckdb"],
               env, "dbt run-operation grant_register_roles (duckdb)")
    assert _dbt_log_lines(out, "grant_register_roles: ") == ["no grants on adapter duckdb (nothing to do)"]


def test_compiled_snowflake_sql_is_portable(builds):
    """Every model and test compiled for --target snowflake uses only Snowflake functions."""
    target = builds["tmp"] / "target_compile"
    env = {**builds["sf_env"], "DBT_TARGET_PATH": str(target)}
    _run([str(BIN / "dbt"), "compile", "--target", "snowflake"], env, "dbt compile --target snowflake")
    checked, findings = check_compiled_dir(target / "compiled")
    assert checked >= 100, f"only {checked} compiled files: did dbt compile everything?"
    assert not findings, "\n".join(str(f) for f in findings)


def test_duplicate_event_ids_across_files_are_quarantined_like_duckdb(tmp_path, fakesnow_server):
    """An event_id Snowflake already holds is quarantined as duplicate_event_id, with DuckDB's
    reason detail, and a repeat inside the file as duplicate_event_id_in_file."""
    from orchestration.lib.landing import land_paths
    from orchestration.lib.snowflake_landing import SnowflakeLanding
    from orchestration.lib.warehouse import open_warehouse

    def event(i: int, **extra) -> str:
        return json.dumps({"event_id": f"e{i}", "workflow_id": "fulfillment_v2", "run_id": f"r{i}",
                           "event_type": "stage_completed", "event_ts": f"2026-11-20T10:00:0{i}Z",
                           "region": "us-east-1", "attributes": {"customer_email": "a@b.c"}, **extra})

    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(event(i) for i in range(4)) + "\n")
    second = tmp_path / "second.jsonl"
    second.write_text("\n".join([event(2), event(5), event(5, actor="x"), event(6), "not json"]) + "\n")
    register = load_register(REPO_ROOT / "command_center.yml")
    with open_warehouse(tmp_path / "dups.duckdb") as duck:
        land_paths(duck, [first, second], register=register, salt=SALT)
        expected = duck.execute(
            "select source_row_number, reason_code, reason_detail, raw_record from raw.quarantine order by 1, 2"
        ).fetchall()
        expected_events = duck.execute("select event_id from raw.workflow_events order by 1").fetchall()
    assert [r[1] for r in expected] == ["duplicate_event_id", "duplicate_event_id_in_file", "malformed_record"]

    con = _sf_connect(_snowflake_env(fakesnow_server["port"], "COMMAND_CENTER_DUPS"))
    try:
        sink = SnowflakeLanding(con, batch_rows=2)  # several Parquet batches per table
        batch = sink.land_paths([first, second], register=register, salt=SALT)
        assert not batch.refused and [r.rows_quarantined for r in batch.landed] == [0, 3]
        cur = con.cursor()
        cur.execute("select source_row_number, reason_code, reason_detail, raw_record from raw.quarantine order by 1, 2")
        got = cur.fetchall()
        cur.execute("select event_id from raw.workflow_events order by 1")
        got_events = cur.fetchall()
        cur.execute("select rows_read, rows_loaded, rows_quarantined from raw.load_ledger order by rows_read")
        ledger = cur.fetchall()
    finally:
        con.close()
    assert got == expected
    assert got_events == expected_events
    assert ledger == [(4, 4, 0), (5, 2, 3)]


def test_minimal_log_options_reach_the_snowflake_sink(tmp_path, fakesnow_server):
    """--timestamp-format and --timezone pass through the sink to land_file: a local-time, non-ISO
    minimal log without actors, with identical rows, lands on Snowflake as on DuckDB."""
    from orchestration.lib.landing import land_paths
    from orchestration.lib.snowflake_landing import SnowflakeLanding
    from orchestration.lib.warehouse import open_warehouse

    log = tmp_path / "cases.csv"
    log.write_text("case_id,event_name,timestamp\nc1,received,20.11.2026 10:00\nc1,received,20.11.2026 10:00\n"
                   "c1,shipped,20.11.2026 12:30\nc2,received,2026-11-20T09:00:00Z\n", encoding="utf-8")
    options = {"log_format": "minimal", "workflow": "fulfillment_v2", "timestamp_format": "%d.%m.%Y %H:%M",
               "timezone": "Europe/Berlin"}
    register = load_register(REPO_ROOT / "command_center.yml")
    query = "select event_id, run_id, event_ts, actor from raw.workflow_events order by 3, 1"
    with open_warehouse(tmp_path / "minimal.duckdb") as duck:
        land_paths(duck, [log], register=register, salt=SALT, **options)
        expected = duck.execute(query).fetchall()
    assert [r[2] for r in expected] == [datetime(2026, 11, 20, 9, 0)] * 3 + [datetime(2026, 11, 20, 11, 30)]
    con = _sf_connect(_snowflake_env(fakesnow_server["port"], "COMMAND_CENTER_MINIMAL"))
    try:
        batch = SnowflakeLanding(con).land_paths([log], register=register, salt=SALT, **options)
        assert not batch.refused and batch.landed[0].rows_loaded == 4
        cur = con.cursor()
        cur.execute(query)
        got = cur.fetchall()
    finally:
        con.close()
    assert got == expected


def test_dagster_landing_asset_lands_on_snowflake(tmp_path, fakesnow_server, monkeypatch):
    """COMMAND_CENTER_DBT_TARGET=snowflake: the landing asset ships the folder to Snowflake, and its
    data checks validate the batches it shipped."""
    import dagster as dg

    from orchestration.defs.landing import raw_workflow_events
    from orchestration.defs.resources import LandingResource, WarehouseResource

    for key, value in _snowflake_env(fakesnow_server["port"], "COMMAND_CENTER_DAGSTER").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "snowflake")
    monkeypatch.setenv("COMMAND_CENTER_REDACTION_SALT", SALT)
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "events.jsonl").write_text("\n".join(json.dumps(
        {"event_id": f"d{i}", "workflow_id": "fulfillment_v2", "run_id": "r1", "event_type": "stage_completed",
         "event_ts": f"2026-11-20T10:00:0{i}Z", "region": "us-east-1", "cost_cents": -1 if i == 2 else 5}
    ) for i in range(4)) + "\n")
    result = dg.materialize(
        [raw_workflow_events],
        resources={"warehouse": WarehouseResource(duckdb_path=str(tmp_path / "unused.duckdb")),
                   "landing": LandingResource(landing_dir=str(folder))},
        raise_on_error=False,
    )
    assert result.success
    metadata = result.asset_materializations_for_node("raw_workflow_events")[0].metadata
    assert metadata["rows_loaded"].value == 3 and metadata["rows_quarantined"].value == 1
    assert metadata["warehouse"].value == "snowflake://COMMAND_CENTER_DAGSTER/raw"
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    assert {c.metadata["rows_validated"].value for c in checks} == {3}
    assert not (tmp_path / "unused.duckdb").exists()
