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


def test_every_incremental_model_has_an_enforced_contract(manifest):
    """The schema migration before each build (orchestration/lib/migrations.py) compares a table with its
    contract's columns: an incremental model without one would stop the build after a release that
    changes its columns (on_schema_change fail) until someone ran a --full-refresh by hand."""
    from orchestration.lib.migrations import candidate_nodes

    checked, unchecked = candidate_nodes(manifest)
    assert unchecked == [], "incremental models without an enforced contract (the migration cannot check them)"
    incremental = [node for node in _models(manifest).values() if node["config"].get("materialized") == "incremental"]
    assert len(checked) >= 30 and len(incremental) >= len(checked)


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


# Key columns (a `unique*` test's column or a unique_combination_of_columns member) that carry no not-null
# check today: a grain with a "none" member (a quarantined row without workflow_id, a workflow-wide stuck
# threshold, a default labor rate) or keys whose owners have not added one yet. The list may only shrink.
KEYS_WITHOUT_NOT_NULL = {
    ("agg_quarantine_reasons", "workflow_id"), ("int_case_events_sequenced", "event_seq"),
    ("int_slo_burn_rates", "instant_bucket"), ("int_slo_burn_rates", "sli"), ("int_slo_burn_rates", "workflow_id"),
    ("stg_governance__alert_runbooks", "scope"), ("stg_governance__alert_runbooks", "scope_key"),
    ("stg_governance__alert_severities", "severity"), ("stg_governance__labor_rates", "owner_team"),
    ("stg_governance__stuck_thresholds", "stage"),
}


def _enforces_not_null(node: dict, column: str) -> bool:
    """The database itself rejects a NULL in ``column``: an enforced contract, a table or incremental
    materialization (a view cannot enforce; without a contract dbt ignores constraints) and a not_null
    constraint on the column (or a model-level one naming it)."""
    if node["resource_type"] != "model" or not node["config"].get("contract", {}).get("enforced"):
        return False
    if node["config"].get("materialized") not in ("table", "incremental"):
        return False
    constraints = [c for c in node["columns"].get(column, {}).get("constraints", []) if c["type"] == "not_null"]
    constraints += [c for c in node.get("constraints", []) if c["type"] == "not_null" and column in (c.get("columns") or [])]
    return bool(constraints)


def _tests_by_kind(manifest: dict, prefix: str) -> dict[tuple[str, str], str]:
    """(parent unique_id, column) -> a test name, for the generic tests whose name starts with ``prefix``."""
    found = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or not meta.get("name", "").startswith(prefix):
            continue
        parent = node.get("attached_node") or node["depends_on"]["nodes"][0]
        kwargs = meta.get("kwargs") or {}
        for column in kwargs.get("combination_of_columns") or [kwargs.get("column_name") or node.get("column_name")]:
            if column:
                found[(parent, column)] = node["name"]
    return found


def test_not_null_constraints_are_enforced(manifest):
    """A not_null constraint stands in for a not_null test only where the database enforces it."""
    unenforced = sorted(f"{node['name']}.{column}" for node in _models(manifest).values()
                        for column, spec in node["columns"].items()
                        if any(c["type"] == "not_null" for c in spec.get("constraints", []))
                        and not _enforces_not_null(node, column))
    assert unenforced == [], "not_null constraints nothing enforces (a view, or no enforced contract): use a not_null test"


def test_every_key_column_is_checked_not_null(manifest):
    """A key column carries a not_null data test or a not_null constraint the database enforces."""
    not_null_tests = _tests_by_kind(manifest, "not_null")
    unchecked = set()
    for parent, column in _tests_by_kind(manifest, "unique"):
        node = manifest["nodes"].get(parent) or manifest["sources"].get(parent)
        if (parent, column) not in not_null_tests and not _enforces_not_null(node, column):
            unchecked.add((node["name"], column))
    assert unchecked - KEYS_WITHOUT_NOT_NULL == set(), "key columns with neither a not_null test nor an enforced constraint"
    assert KEYS_WITHOUT_NOT_NULL - unchecked == set(), "checked now: remove them from KEYS_WITHOUT_NOT_NULL"


def test_the_not_null_rules_catch_a_violation(manifest):
    broken = json.loads(json.dumps(manifest))
    runs = next(node for node in _models(broken).values() if node["name"] == "int_runs_summarized")
    assert _enforces_not_null(runs, "run_id")
    runs["config"]["materialized"] = "view"  # the constraint is no longer enforced, and run_id has no test
    for check in (test_not_null_constraints_are_enforced, test_every_key_column_is_checked_not_null):
        with pytest.raises(AssertionError):
            check(broken)


# The nightly build's folded tests (macros/generic_tests/model_tests_folded.sql, selectors.yml): the
# nightly selector leaves out every test of a folded kind (orchestration/lib/folded_tests.py) as a node of
# its own; each must then be evaluated by a model_tests_folded test on its parent (a source's tests stay
# nodes of their own: Dagster maps them to checks on the landing assets).
def test_every_folded_test_has_its_folded_test(manifest):
    """No test drops out of the nightly build: every parent of a folded test carries a model_tests_folded
    test, and no model_tests_folded test sits where it would fold nothing."""
    from orchestration.lib.folded_tests import FOLDED_KINDS, FOLDED_TAG, folded_members, folded_tests

    members, folded = folded_members(manifest), folded_tests(manifest)
    name = lambda uid: (manifest["nodes"].get(uid) or manifest["sources"][uid])["name"]  # noqa: E731
    missing = sorted(f"{name(parent)} ({len(tests)} tests)" for parent, tests in members.items() if parent not in folded)
    assert missing == [], "models whose tests the nightly build would skip: add `model_tests_folded`"
    empty = sorted(name(parent) for parent in folded if parent not in members)
    assert empty == [], "model_tests_folded tests that fold nothing"
    # the macro folds the same kinds, and the nightly selector names the tag (selectors.yml)
    macro = (REPO_ROOT / "macros" / "generic_tests" / "model_tests_folded.sql").read_text()
    assert all(f"'{kind}'" in macro for kind in FOLDED_KINDS) and f"'{FOLDED_TAG}'" in macro
    assert f"value: {FOLDED_TAG}" in (REPO_ROOT / "selectors.yml").read_text()


def test_every_foldable_expression_is_tagged_folded(manifest):
    """An expression_is_true test the folded test can evaluate (no ref/source in it) carries the tag
    nightly_folded, so it costs the nightly build no node of its own; one that cannot does not carry it
    (the folded test would refuse it at run time)."""
    from orchestration.lib.folded_tests import FOLDED_TAG, generic_test_name, is_foldable_expression

    tests = [node for node in manifest["nodes"].values() if generic_test_name(node) == "expression_is_true"]
    untagged = sorted(n["name"] for n in tests if is_foldable_expression(n) and FOLDED_TAG not in n["tags"])
    assert untagged == [], f"add `config: {{tags: [{FOLDED_TAG}]}}` to these expression_is_true tests"
    wrongly = sorted(n["name"] for n in tests if FOLDED_TAG in n["tags"] and not is_foldable_expression(n))
    assert wrongly == [], f"these expression_is_true tests cannot be folded: remove the tag {FOLDED_TAG}"
    assert sum(FOLDED_TAG in n["tags"] for n in tests) >= 50


def _hook_updates_rows(manifest, model: dict) -> bool:
    """True when a pre/post hook of the model (or a macro one calls) runs an UPDATE: rows change in place,
    their watermark column does not."""
    hooks = [h["sql"] if isinstance(h, dict) else h
             for key in ("pre-hook", "post-hook", "pre_hook", "post_hook") for h in model["config"].get(key) or []]
    texts = list(hooks)
    for hook in hooks:
        for macro_name in re.findall(r"(\w+)\s*\(", hook):
            macro = manifest["macros"].get(f"macro.command_center.{macro_name}")
            if macro:
                texts.append(macro["macro_sql"])
    return any(re.search(r"^\s*update\s", text, re.IGNORECASE | re.MULTILINE) for text in texts)


def test_folded_row_scope_only_where_untouched_rows_are_unchanged(manifest):
    """model_tests_folded's watermark_column (the nightly build checks its row members on the rows touched
    since the last passing check) is sound only where a row not rewritten since then is unchanged and every
    rewritten row carries a later value: an incremental table that no hook updates in place, or a view over
    the append-only raw events (meta append_only), with the watermark column one of its columns."""
    from orchestration.lib.folded_tests import FOLDED_TEST, generic_test_name

    scoped = [n for n in manifest["nodes"].values()
              if generic_test_name(n) == FOLDED_TEST and (n["test_metadata"]["kwargs"] or {}).get("watermark_column")]
    assert len(scoped) >= 10, "the nightly build's largest folded tests are scoped"
    wrong = []
    for test in scoped:
        model = manifest["nodes"][test["depends_on"]["nodes"][0]]
        column = test["test_metadata"]["kwargs"]["watermark_column"]
        materialized = model["config"]["materialized"]
        immutable = (materialized == "incremental"
                     or (materialized == "view" and (model["config"].get("meta") or {}).get("append_only") is True
                         and all(p.startswith("source.") for p in model["depends_on"]["nodes"])))
        if column not in model["columns"] or not immutable or _hook_updates_rows(manifest, model):
            wrong.append(f"{model['name']} ({materialized}, {column})")
    assert wrong == [], "watermark_column on a model whose untouched rows can change: remove it"


def test_the_row_scope_rule_catches_an_updating_hook(manifest):
    broken = json.loads(json.dumps(manifest))
    episodes = next(n for n in broken["nodes"].values() if n["resource_type"] == "model" and n["name"] == "fct_alert_episodes")
    assert _hook_updates_rows(broken, episodes), "fct_alert_episodes refreshes its kept rows in place"
    folded = next(n for n in broken["nodes"].values()
                  if (n.get("test_metadata") or {}).get("name") == "model_tests_folded"
                  and n["depends_on"]["nodes"] == [episodes["unique_id"]])
    folded["test_metadata"]["kwargs"]["watermark_column"] = "_loaded_through"
    with pytest.raises(AssertionError):
        test_folded_row_scope_only_where_untouched_rows_are_unchanged(broken)


def test_the_folding_rule_catches_a_dropped_test(manifest):
    broken = json.loads(json.dumps(manifest))
    folded = next(uid for uid, node in broken["nodes"].items()
                  if (node.get("test_metadata") or {}).get("name") == "model_tests_folded")
    del broken["nodes"][folded]
    with pytest.raises(AssertionError):
        test_every_folded_test_has_its_folded_test(broken)
