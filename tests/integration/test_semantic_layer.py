"""The semantic layer (MetricFlow, models/semantic/) answers with the marts' numbers.

MetricFlow's Python API (orchestration/lib/semantic_layer.py: the semantic manifest of a `dbt parse`,
DuckDB SQL run on a read-only connection) against the session's shared warehouse, for every
workflow x week (and workflow x region x week, workflow x month, owner team x region x week,
workflow x SLI x week): counts exactly equal, floats within 1e-9 relative. The percentiles and the
percentages the marts round to 6 decimals are compared as round(semantic value, 6), the documented
relationship (models/semantic/_semantic__docs.md). Periods the marts keep with zero counts (their
spine) have no row in the semantic layer; they are checked to be zero / null in the mart. Nothing
may touch the network while querying (the `mf` CLI's PyPI version check is why the CLI is not used).
"""
from __future__ import annotations

import datetime
import math
import os
import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.semantic_layer import SemanticLayerError, load_semantic_manifest, open_semantic_layer
from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

pytestmark = pytest.mark.integration

REL = 1e-9


@pytest.fixture(scope="module")
def semantic_target(shared_warehouse, tmp_path_factory) -> Path:
    """A target path holding this project's semantic_manifest.json: the one the shared warehouse's build
    wrote (dbt's target path, written after the session generated its events), else a private `dbt parse`.
    Which DuckDB file the writer was configured with does not matter: the helper attaches the file under
    whatever catalog name the manifest records."""
    built = Path(os.environ.get("DBT_TARGET_PATH") or REPO_ROOT / "target")
    built = built if built.is_absolute() else REPO_ROOT / built
    manifest = built / "semantic_manifest.json"
    if manifest.is_file() and manifest.stat().st_mtime > shared_warehouse.events.stat().st_mtime:
        return built
    target = tmp_path_factory.mktemp("semantic_target")
    env = {
        **os.environ, **TELEMETRY_OFF,
        "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"), "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"), "COMMAND_CENTER_DUCKDB": str(target / "command_center.duckdb"),
        "COMMAND_CENTER_DBT_TARGET": "duckdb",
    }
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run([str(dbt), "parse", "--no-partial-parse"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target


@pytest.fixture(scope="module")
def layer(shared_warehouse, semantic_target):
    with open_semantic_layer(shared_warehouse.db, semantic_target) as semantic_layer:
        yield semantic_layer


@pytest.fixture(scope="module")
def marts(shared_warehouse):
    con = duckdb.connect(str(shared_warehouse.db), read_only=True)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt while a test runs fails it: the semantic layer is local."""
    def refuse(self, address, *args, **kwargs):
        if isinstance(address, tuple):
            raise AssertionError(f"network connection attempted to {address}")
        return original(self, address, *args, **kwargs)

    original = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", refuse)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _day(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _index(rows: Iterable[dict], *keys: str) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(_day(row[k]) for k in keys)
        assert key not in out, f"duplicate key {key}"
        out[key] = row
    return out


def _close(semantic, mart, *, rounded: bool = False) -> bool:
    if semantic is None or mart is None:
        return semantic is None and mart is None
    value = round(semantic, 6) if rounded else semantic
    return math.isclose(value, mart, rel_tol=REL, abs_tol=1e-12)


def _compare(semantic: dict[tuple, dict], mart: dict[tuple, dict], pairs: dict[str, tuple[str, str]],
             present: str) -> list[str]:
    """Every mart row with `present` > 0 has a semantic row with equal values (pairs: semantic column ->
    (mart column, 'exact' | 'float' | 'rounded')); every other mart row has no semantic value; no
    semantic row lacks a mart row."""
    problems = [f"{key}: in the semantic layer, not in the mart" for key in sorted(set(semantic) - set(mart))]
    for key, row in sorted(mart.items()):
        got = semantic.get(key)
        if not row[present]:
            if got is not None and got.get(present):
                problems.append(f"{key}: mart has no {present}, semantic layer {got[present]}")
            continue
        if got is None:
            problems.append(f"{key}: missing from the semantic layer")
            continue
        for semantic_column, (mart_column, kind) in pairs.items():
            a, b = got[semantic_column], row[mart_column]
            ok = a == b if kind == "exact" else _close(a, b, rounded=kind == "rounded")
            if not ok:
                problems.append(f"{key} {semantic_column}: semantic {a!r} != mart {mart_column} {b!r}")
    return problems


RUN_PAIRS = {
    "runs_completed": ("runs_completed", "exact"),
    "cycle_time_p50_seconds": ("cycle_time_p50_seconds", "rounded"),
    "cycle_time_p90_seconds": ("cycle_time_p90_seconds", "rounded"),
    "runs_within_slo": ("runs_within_slo", "exact"),
    "runs_completed_with_slo": ("runs_completed_with_slo", "exact"),
    "share_within_slo": ("share_within_slo", "float"),
    "compute_cost_cents": ("compute_cost_cents", "float"),
}


def test_runs_metrics_equal_the_weekly_marts_per_workflow_and_week(layer, marts):
    semantic = _index(layer.query(list(RUN_PAIRS), ["workflow", "metric_time__week"]), "workflow", "metric_time__week")
    mart = _index(_rows(marts, "select * from marts.agg_workflow_weekly_all_regions"), "workflow_id", "week_start")
    assert len(mart) >= 20 and sum(1 for r in mart.values() if r["runs_completed"]) >= 15
    assert _compare(semantic, mart, RUN_PAIRS, present="runs_completed") == []


def test_runs_metrics_equal_the_weekly_marts_per_workflow_region_and_week(layer, marts):
    rows = layer.query(list(RUN_PAIRS), ["workflow", "run__region", "metric_time__week"])
    semantic = _index(rows, "workflow", "run__region", "metric_time__week")
    mart = _index(_rows(marts, "select * from marts.agg_workflow_weekly"), "workflow_id", "region", "week_start")
    assert len({key[1] for key in mart}) >= 2
    assert _compare(semantic, mart, RUN_PAIRS, present="runs_completed") == []


def test_runs_metrics_equal_the_daily_mart_per_workflow_region_and_day(layer, marts):
    rows = layer.query(list(RUN_PAIRS), ["workflow", "run__region", "metric_time__day"])
    semantic = _index(rows, "workflow", "run__region", "metric_time__day")
    mart = _index(_rows(marts, "select * from marts.agg_workflow_daily"), "workflow_id", "region", "day")
    assert len(mart) >= 100
    assert _compare(semantic, mart, RUN_PAIRS, present="runs_completed") == []


def test_runs_started_is_counted_in_the_week_the_run_started(layer, marts):
    semantic = _index(layer.query(["runs_started"], ["workflow", "metric_time__week"]), "workflow", "metric_time__week")
    mart = _index(_rows(marts, "select * from marts.agg_workflow_weekly_all_regions"), "workflow_id", "week_start")
    assert _compare(semantic, mart, {"runs_started": ("runs_started", "exact")}, present="runs_started") == []


def test_the_throughput_and_cycle_time_saved_queries_are_the_same_numbers(layer, marts):
    mart = _index(_rows(marts, "select * from marts.agg_workflow_weekly_all_regions"), "workflow_id", "week_start")
    throughput = _index(layer.query(saved_query="throughput_per_workflow_weekly"), "workflow", "metric_time__week")
    assert _compare(throughput, mart, {"runs_completed": ("runs_completed", "exact")}, present="runs_completed") == []
    cycle = _index(layer.query(saved_query="cycle_time_per_workflow_weekly"), "workflow", "metric_time__week")
    pairs = {k: RUN_PAIRS[k] for k in ("runs_completed", "cycle_time_p50_seconds", "cycle_time_p90_seconds",
                                       "share_within_slo")}
    assert _compare(cycle, mart, pairs, present="runs_completed") == []


def test_exception_rate_and_budget_consumption_equal_the_budget_mart_per_workflow_and_month(layer, marts):
    mart = _index(_rows(marts, "select * from marts.agg_exception_budget_monthly"), "workflow_id", "month_start")
    budget = _index(layer.query(saved_query="exception_budget_per_workflow_monthly"), "workflow", "metric_time__month")
    pairs = {"budget_runs_started_metric": ("runs_started", "exact"),
             "exception_budget_consumed_pct": ("budget_consumed_pct", "rounded")}
    assert _compare(budget, mart, pairs, present="runs_started") == []
    assert any(row["budget_consumed_pct"] for row in mart.values())
    rate = _index(layer.query(["runs_started", "runs_with_exceptions", "exception_rate_pct"],
                              ["workflow", "metric_time__month"]), "workflow", "metric_time__month")
    pairs = {"runs_started": ("runs_started", "exact"), "runs_with_exceptions": ("runs_with_exceptions", "exact"),
             "exception_rate_pct": ("exception_rate_pct", "rounded")}
    assert _compare(rate, mart, pairs, present="runs_started") == []


def test_cost_per_run_equals_the_cost_mart_per_team_region_and_week(layer, marts):
    mart_rows = _rows(marts, "select * from marts.agg_cost_to_serve_weekly")
    team_region = _index([r for r in mart_rows if r["grain"] == "owner_team_region"], "owner_team", "region",
                         "week_start")
    semantic = _index(layer.query(saved_query="cost_per_run_per_team_region_weekly"),
                      "cost_row__owner_team", "cost_row__region", "metric_time__week")
    pairs = {"cost_per_run": ("cost_per_completed_run", "float"), "cost_total_team_region": ("total_cost", "float"),
             "cost_completed_runs_team_region": ("completed_runs", "exact")}
    # every mart row has a semantic row (both sums exist), the unit cost null where nothing completed
    assert set(semantic) == set(team_region)
    assert _compare(semantic, team_region, pairs, present="total_cost") == []
    by_workflow = _index([r for r in mart_rows if r["grain"] == "workflow"], "owner_team", "workflow_id", "week_start")
    semantic = _index(layer.query(["cost_per_run_by_workflow", "cost_total_workflow"],
                                  ["cost_row__owner_team", "cost_row__workflow_id", "metric_time__week"]),
                      "cost_row__owner_team", "cost_row__workflow_id", "metric_time__week")
    pairs = {"cost_per_run_by_workflow": ("cost_per_completed_run", "float"),
             "cost_total_workflow": ("total_cost", "float")}
    assert _compare(semantic, by_workflow, pairs, present="total_cost") == []


def test_slo_attainment_equals_the_weekly_snapshot_per_workflow_sli_and_week(layer, marts):
    mart = _index(_rows(marts, "select * from marts.fct_slo_weekly_snapshot"), "workflow_id", "sli", "week_start")
    assert mart, "the shared warehouse has SLO snapshot weeks"
    semantic = _index(layer.query(saved_query="slo_attainment_per_workflow_weekly"),
                      "workflow", "slo_week__sli", "metric_time__week")
    pairs = {"slo_good_events": ("good_events", "exact"), "slo_valid_events": ("valid_events", "exact"),
             "slo_attainment_pct": ("attainment_pct", "rounded")}
    assert _compare(semantic, mart, pairs, present="valid_events") == []


def test_exception_flow_equals_the_aging_mart_per_workflow_class_owner_and_week(layer, marts):
    keys = ("workflow", "exception__exception_class", "exception__routed_owner", "metric_time__week")
    semantic = _index(layer.query(saved_query="exception_flow_per_class_and_owner_weekly"), *keys)
    mart = _index(_rows(marts, "select * from marts.agg_exception_aging_weekly"),
                  "workflow_id", "exception_class", "routed_owner", "week_start")
    assert sum(row["exceptions_raised"] for row in mart.values()) >= 10
    checks = {
        "exceptions_raised": {"exceptions_raised": ("exceptions_raised", "exact")},
        "exceptions_acknowledged": {"exceptions_acknowledged": ("exceptions_acknowledged", "exact"),
                                    "time_to_first_touch_p90_seconds": ("time_to_first_touch_p90_seconds", "rounded")},
        "exceptions_resolved": {"exceptions_resolved": ("exceptions_resolved", "exact"),
                                "time_to_resolution_p90_seconds": ("time_to_resolution_p90_seconds", "rounded")},
    }
    for present, pairs in checks.items():
        assert _compare(semantic, mart, pairs, present=present) == [], present
    medians = _index(layer.query(["time_to_first_touch_p50_seconds", "time_to_resolution_p50_seconds"],
                                 ["workflow", "exception__exception_class", "exception__routed_owner",
                                  "metric_time__week"]), *keys)
    for row in mart.values():
        got = medians.get((row["workflow_id"], row["exception_class"], row["routed_owner"], row["week_start"]), {})
        assert _close(got.get("time_to_first_touch_p50_seconds"), row["time_to_first_touch_p50_seconds"], rounded=True)
        assert _close(got.get("time_to_resolution_p50_seconds"), row["time_to_resolution_p50_seconds"], rounded=True)


def test_percentiles_are_continuous_linear_interpolation(layer):
    """MetricFlow renders percentile_cont (linear interpolation), the marts' quantile method (doc quantile_method)."""
    sql = layer.sql(["cycle_time_p50_seconds", "cycle_time_p90_seconds"], ["workflow", "metric_time__week"]).upper()
    assert "PERCENTILE_CONT(0.5) WITHIN GROUP" in sql and "PERCENTILE_CONT(0.9) WITHIN GROUP" in sql
    assert "PERCENTILE_DISC" not in sql and "APPROX" not in sql


def test_every_saved_query_runs(layer, semantic_target):
    names = [q.name for q in load_semantic_manifest(semantic_target).saved_queries]
    assert len(names) >= 5
    for name in names:
        assert layer.query(saved_query=name), f"saved query {name} returned nothing"


def test_a_missing_semantic_manifest_says_what_to_run(tmp_path):
    with pytest.raises(SemanticLayerError, match="dbt parse"):
        load_semantic_manifest(tmp_path)
