"""The Dagster code location: it loads, its lineage is one graph, and its assets land and build.

Real DuckDB (a file under tmp_path), real dbt (the repository's project), real Dagster (ephemeral
instance, in-process execution). No mocks.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs import build_definitions
from orchestration.defs.dbt import (
    SOURCE_ASSET_KEYS,
    WEEKLY_PARTITIONS,
    CommandCenterDbtTranslator,
    build_dbt_project,
    group_from_fqn,
    partitioning_of,
)
from orchestration.defs.landing import discover_landing_files, raw_workflow_events
from orchestration.defs.register import governance_register
from orchestration.defs.resources import LandingResource, WarehouseResource
from orchestration.lib.folded_tests import is_folded
from orchestration.settings import REPO_ROOT, Settings, get_settings

pytestmark = pytest.mark.integration

GOVERNANCE = dg.AssetKey("governance_register")
RAW = dg.AssetKey("raw_workflow_events")
#: the weekly HTML report (orchestration/defs/report.py): partitioned like the snapshot, after it
REPORT = dg.AssetKey(["reports", "weekly_command_center_report"])
DISPATCH = dg.AssetKey(["alerting", "alert_dispatch"])
MART_NAMES = ("fct_workflow_runs", "agg_workflow_daily", "agg_workflow_weekly")
MARTS = [dg.AssetKey(["marts", name]) for name in MART_NAMES]


def event(i: int, **overrides) -> dict:
    record = {
        "event_id": f"evt-{i:04d}",
        "workflow_id": "fulfillment_v2",
        "run_id": f"run-{i // 2:04d}",
        "event_type": "run_started" if i % 2 == 0 else "run_completed",
        "event_ts": f"2026-11-01T10:{i % 60:02d}:00Z",
        "region": "us-east-1",
        "attributes": {"customer_email": "someone@example.com", "channel": "web"},
    }
    record.update(overrides)
    return record


def write_jsonl(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def landing_resources(settings: Settings) -> dict:
    return {
        "warehouse": WarehouseResource(duckdb_path=str(settings.duckdb_path)),
        "landing": LandingResource(
            landing_dir=str(settings.landing_dir), register_path=str(settings.register_path)
        ),
    }


def materialize_landing(settings: Settings, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [governance_register, raw_workflow_events],
        resources=landing_resources(settings),
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def landing_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [mat] = result.asset_materializations_for_node("raw_workflow_events")
    return {k: v.value for k, v in mat.metadata.items()}


def upstream_of(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def query(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------
# (1) The definitions load, with the expected assets, lineage, checks and job
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def defs(command_center_env) -> dg.Definitions:
    return build_definitions()


def test_definitions_load_with_assets_checks_and_job(defs):
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for key in (GOVERNANCE, RAW, *MARTS):
        assert key in keys, f"{key.to_user_string()} missing from {sorted(k.to_user_string() for k in keys)}"

    assert graph.get(GOVERNANCE).group_name == "landing"
    assert graph.get(RAW).group_name == "landing"
    assert graph.get(RAW).parent_keys == {GOVERNANCE}
    for key in MARTS:
        assert graph.get(key).group_name == "marts"

    # dbt sources resolve to the landing assets: one graph, no stray raw/* or governance/* assets
    assert not [k for k in keys if k.path[0] in ("raw", "governance")]
    staging = [k for k in keys if graph.get(k).group_name == "staging"]
    assert staging and all(k.path[0] == "staging" for k in staging)
    assert {p for k in staging for p in graph.get(k).parent_keys} == {RAW, GOVERNANCE}
    assert {GOVERNANCE, RAW} <= upstream_of(graph, MARTS[0])
    intermediate = [k for k in keys if graph.get(k).group_name == "intermediate"]
    assert intermediate, "expected the intermediate models in group 'intermediate'"

    # dbt tests are asset checks on the model they test; source tests are checks on the landing assets
    checks = graph.asset_check_keys
    assert any(c.asset_key == MARTS[0] for c in checks), "no dbt test of fct_workflow_runs became a check"
    assert any(c.asset_key == RAW for c in checks)
    assert any(c.asset_key == GOVERNANCE for c in checks)

    job = defs.resolve_job_def("daily_land_and_build")
    assert job.executor_def is dg.in_process_executor
    assert {GOVERNANCE, RAW, *MARTS} <= set(job.asset_layer.selected_asset_keys)


def dbt_manifest() -> dict:
    return json.loads(build_dbt_project(get_settings()).manifest_path.read_text())


def test_nothing_is_missing_jobs_schedules_sensors_assets_checks_partitions(defs):
    """Fails if any job, schedule, sensor, landing asset, dbt model (as an asset), dbt test (as an
    asset check) or the weekly partitioning is missing. The dbt expectations come from the manifest."""
    repo = defs.get_repository_def()
    assert {n for n in repo.job_names if not n.startswith("__")} == {
        "land_new_files",
        "daily_land_and_build",
        "weekly_slo_snapshot",
        "dispatch_alerts",
        "weekly_full_checks",
        "retention_purge_job",
    }
    assert {s.name for s in repo.schedule_defs} == {"daily_land_and_build_schedule", "weekly_slo_snapshot_schedule",
                                                    "weekly_full_checks_schedule", "retention_purge_schedule"}
    assert {s.name for s in repo.sensor_defs} == {"landing_folder_sensor", "alert_dispatch_sensor"}
    assert defs.resolve_sensor_def("alert_dispatch_sensor").job_name == "dispatch_alerts"
    assert defs.resolve_sensor_def("landing_folder_sensor").job_name == "land_new_files"
    for name in repo.job_names:
        if not name.startswith("__"):
            assert defs.resolve_job_def(name).executor_def is dg.in_process_executor, name

    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    checks = graph.asset_check_keys
    assert {GOVERNANCE, RAW} <= keys
    by_name: dict[str, list[dg.AssetKey]] = {}
    for key in keys:
        by_name.setdefault(key.path[-1], []).append(key)

    # every dbt model is exactly one asset (and there is no other dbt asset)
    manifest = dbt_manifest()
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    assert models
    model_key = {}
    for uid, node in models.items():
        assert len(by_name.get(node["name"], [])) == 1, f"dbt model {node['name']} is not exactly one asset"
        model_key[uid] = by_name[node["name"]][0]
        assert graph.get(model_key[uid]).group_name == group_from_fqn(node)
    assert set(model_key.values()) == keys - {GOVERNANCE, RAW, REPORT, DISPATCH}

    # every dbt test on one model or source (or naming its model in meta.dagster.ref) is a check
    def target(uid: str) -> dg.AssetKey:
        source = manifest["sources"].get(uid)
        return SOURCE_ASSET_KEYS[source["source_name"]] if source else model_key[uid]

    expected_checks = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "full_history" in node["tags"]:
            continue  # whole-history tests run in the weekly_full_checks job (selectors.yml), not as checks
        if is_folded(node):
            continue  # folded into the model's model_tests_folded check nightly (selectors.yml); weekly on their own
        ref = ((node["config"].get("meta") or {}).get("dagster") or {}).get("ref")
        parents = node["depends_on"]["nodes"]
        if node.get("attached_node"):
            expected_checks.add(dg.AssetCheckKey(target(node["attached_node"]), node["name"]))
        elif ref:
            expected_checks.add(dg.AssetCheckKey(by_name[ref["name"]][0], node["name"]))
        elif len(parents) == 1:
            expected_checks.add(dg.AssetCheckKey(target(parents[0]), node["name"]))
    assert len(expected_checks) > 100
    missing = sorted(c.to_user_string() for c in expected_checks - checks)
    assert not missing, f"dbt tests missing as asset checks: {missing}"

    # the weekly-partitioned models (dbt meta) are the weekly job's assets, and only they are partitioned
    weekly = {model_key[uid] for uid, node in models.items() if partitioning_of(node) == "weekly"}
    assert weekly, "no dbt model is weekly-partitioned (dbt_project.yml, models/marts/slo)"
    partitioned = {k for k in keys if graph.get(k).partitions_def is not None}
    assert partitioned == weekly | {REPORT}
    assert all(graph.get(k).partitions_def == WEEKLY_PARTITIONS for k in partitioned)
    assert graph.get(REPORT).parent_keys == weekly  # the report runs after the week's dbt build
    weekly_job = defs.resolve_job_def("weekly_slo_snapshot")
    daily_job = defs.resolve_job_def("daily_land_and_build")
    assert set(weekly_job.asset_layer.selected_asset_keys) == weekly | {REPORT}
    assert set(daily_job.asset_layer.selected_asset_keys) == keys - weekly - {REPORT}
    # alert dispatch runs in the daily job after the episodes mart (and sends the digest there)
    assert graph.get(DISPATCH).parent_keys == {dg.AssetKey(["marts", "fct_alert_episodes"])}
    weekly_checks = {c for c in checks if c.asset_key in weekly}
    assert weekly_checks and set(weekly_job.asset_layer.asset_graph.asset_check_keys) == weekly_checks
    assert set(daily_job.asset_layer.asset_graph.asset_check_keys) == checks - weekly_checks

    # the landing-only job: the two landing assets and their own checks, no dbt step
    land = defs.resolve_job_def("land_new_files")
    assert set(land.asset_layer.selected_asset_keys) == {GOVERNANCE, RAW}
    assert {n.name for n in land.nodes} == {"governance_register", "raw_workflow_events"}


@pytest.mark.parametrize(
    ("props", "group"),
    [
        ({"resource_type": "model", "fqn": ["command_center", "staging", "governance", "stg_x"]}, "staging"),
        ({"resource_type": "model", "fqn": ["command_center", "marts", "runs", "fct_x"]}, "marts"),
        ({"resource_type": "model", "fqn": ["command_center", "top_level_model"]}, "models"),
        ({"resource_type": "seed", "fqn": ["command_center", "calendar"]}, "seeds"),
        ({"resource_type": "model", "fqn": ["command_center", "my-folder", "x"]}, "my_folder"),
    ],
)
def test_group_comes_from_the_first_dbt_folder(props, group):
    assert group_from_fqn(props) == group


def test_translator_maps_sources_by_source_name_and_honours_meta():
    translator = CommandCenterDbtTranslator()

    def source(source_name, name, meta=None):
        return {"resource_type": "source", "source_name": source_name, "name": name, "meta": meta or {}, "config": {}}

    assert translator.get_asset_key(source("raw", "load_ledger")) == RAW
    assert translator.get_asset_key(source("governance", "slo_targets")) == GOVERNANCE
    assert translator.get_asset_key(source("other", "t")) == dg.AssetKey(["other", "t"])
    pinned = source("raw", "x", meta={"dagster": {"asset_key": ["pinned"]}})
    assert translator.get_asset_key(pinned) == dg.AssetKey("pinned")


def test_code_location_loads_through_dagster_cli(command_center_env):
    """What `dagster dev` loads: the module named in pyproject's [tool.dagster]."""
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            *("definitions", "validate", "-m", "orchestration.definitions"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful" in proc.stdout + proc.stderr
    assert not command_center_env.duckdb_path.exists(), "loading the definitions must not open the warehouse"


# --------------------------------------------------------------------------------------------------
# (2) Landing assets: land, quarantine, skip what the ledger holds, refuse unreadable files
# --------------------------------------------------------------------------------------------------


def test_landing_assets_land_quarantine_and_skip(command_center_env):
    settings = command_center_env
    landing = settings.landing_dir
    good_and_bad = [event(i) for i in range(4)] + [event(4, event_type="teleported")]
    write_jsonl(landing / "2025-03-01" / "events.jsonl", good_and_bad)
    write_jsonl(landing / "late.ndjson", [event(5), event(6, event_ts="not a time")])
    # minimal/<workflow_id>/ holds minimal event logs (case_id, event_name, timestamp, actor) of that workflow
    (landing / "minimal" / "invoice_posting_v1").mkdir(parents=True)
    (landing / "minimal" / "invoice_posting_v1" / "cases.csv").write_text(
        "case_id,event_name,timestamp,actor\nINV-1,received,2026-11-20T08:00:00Z,mailroom\n"
    )
    (landing / "README.txt").write_text("not an event file\n")
    write_jsonl(landing / ".partial" / "half.jsonl", [event(7)])
    assert [p.relative_to(landing).as_posix() for p in discover_landing_files(landing)] == [
        "2025-03-01/events.jsonl",
        "late.ndjson",
        "minimal/invoice_posting_v1/cases.csv",
    ]

    result = materialize_landing(settings)
    assert result.success
    md = landing_metadata(result)
    assert (md["files_found"], md["files_landed"], md["files_skipped"], md["files_refused"]) == (3, 3, 0, 0)
    assert (md["rows_read"], md["rows_loaded"], md["rows_quarantined"]) == (8, 6, 2)
    assert md["quarantine_reasons"] == {"unknown_event_type": 1, "unparseable_timestamp": 1}
    assert md["dagster/row_count"] == 6
    assert query(settings, "select workflow_id, run_id, log_format from raw.workflow_events where log_format = 'minimal'") == [
        ("invoice_posting_v1", "INV-1", "minimal")
    ]
    assert "events.jsonl" in md["files"] and "unknown_event_type=1" in md["files"]

    [gov] = result.asset_materializations_for_node("governance_register")
    register_bytes = settings.register_path.read_bytes()
    assert gov.metadata["register_sha256"].value == hashlib.sha256(register_bytes).hexdigest()
    assert gov.metadata["table_row_counts"].value["workflows"] == gov.metadata["workflows"].value > 0

    ledger = "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from raw.load_ledger"
    assert query(settings, ledger) == [(3, 8, 6, 2)]
    assert query(settings, "select count(*) from raw.workflow_events") == [(6,)]
    assert sorted(query(settings, "select event_id, reason_code from raw.quarantine")) == [
        ("evt-0004", "unknown_event_type"),
        ("evt-0006", "unparseable_timestamp"),
    ]
    # the register's redaction fields are hashed on the way in
    [(attrs,)] = query(settings, "select attributes from raw.workflow_events where event_id = 'evt-0000'")
    assert json.loads(attrs)["customer_email"].startswith("sha256:")
    workflows = gov.metadata["workflows"].value
    assert query(settings, "select count(*) from governance.workflows") == [(workflows,)]

    # again: every file is in the ledger, nothing new lands
    again = materialize_landing(settings)
    assert again.success
    md = landing_metadata(again)
    assert (md["files_landed"], md["files_skipped"], md["rows_read"], md["rows_loaded"]) == (0, 3, 0, 0)
    assert md["dagster/row_count"] == 6
    assert query(settings, "select count(*) from raw.load_ledger") == [(3,)]
    assert query(settings, "select count(*) from raw.quarantine") == [(2,)]
    assert query(settings, "select count(*) from governance.register_versions") == [(2,)]


def test_a_refused_file_fails_the_asset_after_the_others_land(command_center_env):
    settings = command_center_env
    write_jsonl(settings.landing_dir / "a_good.jsonl", [event(0), event(1)])
    write_jsonl(settings.landing_dir / "b_garbage.jsonl", ["this is not json", "neither is this"])
    (settings.landing_dir / "c_no_columns.csv").write_text("foo,bar\n1,2\n")
    write_jsonl(settings.landing_dir / "d_good.jsonl", [event(2), event(3)])

    result = materialize_landing(settings, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_key == "raw_workflow_events"
    user_failure = failure.step_failure_data.user_failure_data
    assert "2 of 4 file(s) refused" in user_failure.description
    assert "b_garbage.jsonl" in user_failure.description and "c_no_columns.csv" in user_failure.description
    md = {k: v.value for k, v in user_failure.metadata.items()}
    assert (md["files_landed"], md["files_refused"], md["rows_loaded"]) == (2, 2, 4)
    assert set(md["refused"]) == {"b_garbage.jsonl", "c_no_columns.csv"}
    # the good files are landed and in the ledger; nothing of the refused ones is kept
    assert query(settings, "select count(*) from raw.workflow_events") == [(4,)]
    assert sorted(Path(p).name for (p,) in query(settings, "select file_path from raw.load_ledger")) == [
        "a_good.jsonl",
        "d_good.jsonl",
    ]

    # the refusals are remembered: the next run skips those bytes with a warning and succeeds, so one
    # bad file does not block every scheduled build ...
    again = materialize_landing(settings)
    assert again.success
    md = landing_metadata(again)
    assert (md["files_refused"], md["files_refused_earlier"], md["files_skipped"]) == (0, 2, 2)
    assert "refused earlier, skipped" in md["files"]
    # ... and a corrected file (new bytes under the same name) lands normally
    write_jsonl(settings.landing_dir / "b_garbage.jsonl", [event(8)])
    fixed = materialize_landing(settings)
    md = landing_metadata(fixed)
    assert (md["files_landed"], md["files_refused_earlier"], md["rows_loaded"]) == (1, 1, 1)


def test_an_invalid_register_fails_governance_register(command_center_env, tmp_path, monkeypatch):
    bad = tmp_path / "bad_register.yml"
    text = REPO_ROOT.joinpath("command_center.yml").read_text()
    assert "cycle_time_p90_hours: 2.5" in text
    bad.write_text(text.replace("cycle_time_p90_hours: 2.5", "cycle_time_p90_hours: -1", 1))
    monkeypatch.setenv("COMMAND_CENTER_REGISTER", str(bad))

    result = materialize_landing(get_settings(), raise_on_error=False)
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [f.step_key for f in failures] == ["governance_register"]
    description = failures[0].step_failure_data.user_failure_data.description
    assert description.startswith(f"invalid governance register {bad}")
    assert "owners[0].sla.cycle_time_p90_hours: must be greater than 0" in description
    assert not result.asset_materializations_for_node("raw_workflow_events")


# --------------------------------------------------------------------------------------------------
# (3) The whole graph: generated events -> landing -> dbt build (models and tests)
# --------------------------------------------------------------------------------------------------


def test_daily_land_and_build_materializes_the_marts(command_center_env, monkeypatch):
    """Clean generated data passes every check (GX, dbt, log completeness); then a file with a valid but
    duplicated run_started lands, fails log_completeness_one_run_started (error) and blocks the marts."""
    from orchestration.lib.generator import generate_events, write_events

    settings = command_center_env
    # the generator's fixed window; earlier clocks would see the events as future-dated
    end = min(date(2026, 11, 23), date.today())
    # dense enough that every workflow has events within its freshness threshold of the data's end
    table = generate_events(days=7, runs_per_day=24, seed=1, end_date=end)
    write_events(table, settings.landing_dir / "generated" / "events.jsonl", "jsonl")
    # freshness is measured at the data's end (06:00 the morning after), not the wall clock of CI
    monkeypatch.setenv("COMMAND_CENTER_FRESHNESS_AS_OF", f"{end.isoformat()} 06:00:00")

    defs = build_definitions()
    job = defs.resolve_job_def("daily_land_and_build")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed_checks = [c.asset_check_key.to_user_string() for c in evaluations if not c.passed]
    assert result.success, f"daily_land_and_build failed; failed checks: {failed_checks}"
    assert not failed_checks

    materialized = {
        e.asset_key for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    assert {GOVERNANCE, RAW, *MARTS} <= materialized
    assert {c.asset_check_key for c in evaluations} == set(job.asset_layer.asset_graph.asset_check_keys)
    # the weekly-partitioned snapshot is not part of the daily build: not materialized, not built
    partitioned = {k for k in defs.resolve_asset_graph().get_all_asset_keys()
                   if defs.resolve_asset_graph().get(k).partitions_def is not None}
    assert partitioned and not partitioned & materialized
    assert query(settings, "select count(*) from information_schema.tables where table_name = 'fct_slo_weekly_snapshot'") == [(0,)]

    (runs,) = query(settings, "select count(*) from marts.fct_workflow_runs")[0]
    assert runs > 0
    (loaded,) = query(settings, "select count(*) from raw.workflow_events")[0]
    assert loaded > runs
    # the successful dbt step published the marts for BI readers (orchestration/lib/publish.py)
    published = settings.published_duckdb_path
    with duckdb.connect(str(published), read_only=True) as pub:
        assert pub.execute(
            "select row_count from publication.published_marts where table_name = 'fct_workflow_runs'"
        ).fetchall() == [(runs,)]
    published_sha = hashlib.sha256(published.read_bytes()).hexdigest()

    # --- an injected defect: a second run_started for a run that already has one -------------------
    (run_id, ts) = query(
        settings,
        "select run_id, event_ts from raw.workflow_events where event_type = 'run_started' "
        "and workflow_id = 'fulfillment_v2' order by event_ts limit 1",
    )[0]
    write_jsonl(settings.landing_dir / "late" / "restart.jsonl", [{
        "event_id": "evt_injected_restart", "workflow_id": "fulfillment_v2", "run_id": run_id,
        "event_type": "run_started", "event_ts": (ts + timedelta(seconds=1)).isoformat(), "region": "us-east-1",
    }])
    second = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    checks = {
        e.asset_check_evaluation_data.asset_check_key.name: e.asset_check_evaluation_data.passed
        for e in second.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }
    # it lands (a valid row: landing and the GX row checks pass it), then the lifecycle check fails...
    assert all(passed for name, passed in checks.items() if name.startswith("gx_"))
    assert checks["log_completeness_one_run_started"] is False
    failed = {name for name, passed in checks.items() if not passed}
    assert failed == {"log_completeness_one_run_started"}, failed
    # ...and dbt skips everything behind the gate (the violations table): no mart is rebuilt
    rebuilt = {
        e.asset_key for e in second.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    assert RAW in rebuilt and not set(MARTS) & rebuilt
    assert query(settings, "select count(*) from marts.fct_workflow_runs") == [(runs,)]  # the last good build
    assert hashlib.sha256(published.read_bytes()).hexdigest() == published_sha  # a failed build publishes nothing


# --------------------------------------------------------------------------------------------------
# (4) One writer: a second writer gets a clear error, and the file stays sound
# --------------------------------------------------------------------------------------------------


def test_a_writer_outside_dagster_makes_the_steps_fail_clearly_without_harming_the_file(command_center_env):
    settings = command_center_env
    write_jsonl(settings.landing_dir / "a.jsonl", [event(0), event(1)])
    defs = build_definitions()
    assert materialize_landing(settings).success  # the file exists and holds two events

    # another process (a DuckDB shell, `command-center ingest`) holds the write lock
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
         "sys.stdin.read(); c.close()", str(settings.duckdb_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        write_jsonl(settings.landing_dir / "b.jsonl", [event(2), event(3)])
        instance = dg.DagsterInstance.ephemeral()
        landing_run = defs.resolve_job_def("land_new_files").execute_in_process(instance=instance, raise_on_error=False)
        weekly_run = defs.resolve_job_def("weekly_slo_snapshot").execute_in_process(
            partition_key="2026-11-16", instance=instance, raise_on_error=False
        )
    finally:
        holder.communicate(input="", timeout=30)

    for run in (landing_run, weekly_run):
        assert not run.success
        [failure] = [e for e in run.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        error = failure.step_failure_data
        message = (error.user_failure_data.description if error.user_failure_data else "") + str(error.error)
        assert "is in use by another process (DuckDB allows one writer)" in message, message
    # nothing half-written: the file opens and holds what it held before
    assert query(settings, "select count(*) from raw.workflow_events") == [(2,)]
    assert query(settings, "select count(*) from raw.load_ledger") == [(1,)]
