"""The project's conventions, enforced over the dbt manifest (the role dbt_project_evaluator plays
elsewhere; its hub package is out of reach here):

- every mart has an enforced contract, a description and at least one test (data or unit test);
- names state the layer: marts fct_ / agg_ / dim_, staging stg_, intermediate int_;
- only staging reads source(): no intermediate model or mart reads raw tables;
- exposures (who reads what) and semantic models (MetricFlow) read marts only, every exposure names
  an owner, and the BI exposure lists every mart (a build publishes every mart to BI).

`dbt parse` writes the manifest into a temporary target path (no warehouse needed).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT, TELEMETRY_OFF

pytestmark = pytest.mark.integration

#: models/semantic holds the semantic layer's one model, MetricFlow's time spine (dim_time_spine_day)
LAYER_PREFIXES = {"marts": ("fct_", "agg_", "dim_"), "staging": ("stg_",), "intermediate": ("int_",),
                  "semantic": ("dim_",)}


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


def _mart_ids(manifest: dict) -> set[str]:
    return {uid for uid, node in _models(manifest).items() if _layer(node) == "marts"}


def test_exposures_read_marts_only_and_name_an_owner(manifest):
    exposures = manifest.get("exposures", {})
    assert {e["name"] for e in exposures.values()} >= {"executive_command_center_report", "bi_dashboards"}
    marts = _mart_ids(manifest)
    problems = []
    for exposure in exposures.values():
        outside = sorted(set(exposure["depends_on"]["nodes"]) - marts)
        if outside:
            problems.append(f"{exposure['name']} reads non-marts {outside}")
        if not exposure["depends_on"]["nodes"]:
            problems.append(f"{exposure['name']} reads nothing")
        if not (exposure["owner"].get("name") or exposure["owner"].get("email")):
            problems.append(f"{exposure['name']}: no owner")
    assert problems == [], "exposures read the published marts only, and name an owner"


def test_bi_exposure_lists_every_mart(manifest):
    bi = next(e for e in manifest["exposures"].values() if e["name"] == "bi_dashboards")
    missing = sorted(manifest["nodes"][uid]["name"] for uid in _mart_ids(manifest) - set(bi["depends_on"]["nodes"]))
    assert missing == [], "every mart is published to BI: add it to bi_dashboards (models/marts/_marts__exposures.yml)"


def test_the_report_exposure_lists_the_marts_the_report_reads(manifest):
    """The lineage is true: the report's exposure depends on exactly the marts its code names."""
    code = "\n".join(path.read_text() for path in (REPO_ROOT / "orchestration/lib/report").rglob("*.py"))
    read = set(re.findall(r"\bmarts\.((?:fct|agg|dim)_[a-z0-9_]+)", code))
    report = next(e for e in manifest["exposures"].values() if e["name"] == "executive_command_center_report")
    listed = {manifest["nodes"][uid]["name"] for uid in report["depends_on"]["nodes"]}
    assert read and listed == read, f"read, not listed: {sorted(read - listed)}; listed, not read: {sorted(listed - read)}"


def test_semantic_models_read_marts_only(manifest):
    semantic_models = manifest.get("semantic_models", {})
    assert len(semantic_models) >= 5 and len(manifest.get("metrics", {})) >= 10
    marts = _mart_ids(manifest)
    outside = sorted(f"{sm['name']} reads {dep}" for sm in semantic_models.values()
                     for dep in sm["depends_on"]["nodes"] if dep not in marts)
    assert outside == [], "the semantic layer restates the marts: semantic models read marts only"


def test_the_exposure_rules_catch_a_violation(manifest):
    broken = json.loads(json.dumps(manifest))
    exposure = next(e for e in broken["exposures"].values() if e["name"] == "bi_dashboards")
    staging = next(uid for uid, node in _models(broken).items() if _layer(node) == "staging")
    exposure["depends_on"]["nodes"] = [*exposure["depends_on"]["nodes"][1:], staging]
    exposure["owner"] = {"name": None, "email": None}
    semantic_model = next(iter(broken["semantic_models"].values()))
    semantic_model["depends_on"]["nodes"] = [staging]
    for check in (test_exposures_read_marts_only_and_name_an_owner, test_bi_exposure_lists_every_mart,
                  test_semantic_models_read_marts_only):
        with pytest.raises(AssertionError):
            check(broken)
