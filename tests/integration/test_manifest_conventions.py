"""The project's conventions, enforced over the dbt manifest (the role dbt_project_evaluator plays
elsewhere; its hub package is out of reach here):

- every mart has an enforced contract, a description and at least one test (data or unit test);
- names state the layer: marts fct_ / agg_ / dim_, staging stg_, intermediate int_;
- only staging reads source(): no intermediate model or mart reads raw tables.

`dbt parse` writes the manifest into a temporary target path (no warehouse needed).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

pytestmark = pytest.mark.integration

LAYER_PREFIXES = {"marts": ("fct_", "agg_", "dim_"), "staging": ("stg_",), "intermediate": ("int_",)}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("manifest_target")
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
        "COMMAND_CENTER_DUCKDB": str(target / "unused.duckdb"),
        "COMMAND_CENTER_DBT_TARGET": "duckdb",
    }
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run([str(dbt), "parse", "--no-partial-parse"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((target / "manifest.json").read_text())


def _models(manifest: dict) -> dict[str, dict]:
    return {uid: node for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and node["package_name"] == "command_center"}


def _layer(node: dict) -> str:
    return node["fqn"][1]


def test_every_model_sits_in_a_known_layer(manifest):
    models = _models(manifest)
    assert len(models) > 20
    assert {_layer(node) for node in models.values()} == set(LAYER_PREFIXES)


def test_names_state_their_layer(manifest):
    wrong = [f"{_layer(node)}/{node['name']}" for node in _models(manifest).values()
             if not node["name"].startswith(LAYER_PREFIXES[_layer(node)])]
    assert wrong == [], "models named against their layer's prefix (marts fct_/agg_/dim_, stg_, int_)"


def test_every_mart_has_a_contract_a_description_and_tests(manifest):
    marts = {uid: node for uid, node in _models(manifest).items() if _layer(node) == "marts"}
    assert len(marts) >= 10
    tested: set[str] = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            tested.update(node["depends_on"]["nodes"])
    for test in manifest.get("unit_tests", {}).values():
        tested.update(test["depends_on"]["nodes"])
    problems = []
    for uid, node in sorted(marts.items()):
        if not node["config"].get("contract", {}).get("enforced"):
            problems.append(f"{node['name']}: no enforced contract")
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        if uid not in tested:
            problems.append(f"{node['name']}: no data or unit test")
    assert problems == []


def test_only_staging_reads_sources(manifest):
    readers = sorted(f"{_layer(node)}/{node['name']} reads {dep}" for node in _models(manifest).values()
                     for dep in node["depends_on"]["nodes"]
                     if dep.startswith("source.") and _layer(node) != "staging")
    assert readers == [], "only staging models may read source(): add a stg_ model"


def test_the_rules_catch_a_violation(manifest):
    """The checks are not vacuous: a mart renamed, stripped of its contract and pointed at a source fails each."""
    broken = json.loads(json.dumps(manifest))
    uid, node = next((uid, node) for uid, node in _models(broken).items() if _layer(node) == "marts")
    node["name"] = "weekly_" + node["name"]
    node["config"]["contract"] = {"enforced": False}
    node["depends_on"]["nodes"].append("source.command_center.command_center.workflow_events")
    for check in (test_names_state_their_layer, test_every_mart_has_a_contract_a_description_and_tests,
                  test_only_staging_reads_sources):
        with pytest.raises(AssertionError):
            check(broken)
