"""The nightly build's folded tests, read from a dbt manifest: the same rule as the dbt macro
``model_tests_folded_members`` (macros/generic_tests/model_tests_folded.sql), for the checks that keep the
macro, the nightly selector (selectors.yml) and the Dagster asset checks in step.

A folded test is a data test of severity error, not tagged ``full_history``, whose only parent is a model
(or seed or snapshot), of a folded kind: the row kinds (evaluated in one scan by their failing-row
condition; ``expression_is_true`` only when tagged :data:`FOLDED_TAG`) and the grain kinds (evaluated by
their own test's SQL). The nightly build runs it inside its model's ``model_tests_folded`` test instead of
as a node of its own; the weekly full check and every plain ``dbt build`` run it on its own.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ROW_KINDS = ("not_null", "accepted_values", "accepted_range", "expression_is_true")
GRAIN_KINDS = (
    "unique",
    "unique_combination_of_columns",
    "unique_combination_of_columns_hashed",
    "unique_touched_since_last_check",
    "unique_combination_touched_since_last_check",
)
FOLDED_KINDS = ROW_KINDS + GRAIN_KINDS
#: The tag that folds an expression_is_true test (its name does not say its kind).
FOLDED_TAG = "nightly_folded"
#: The test that evaluates a model's folded tests.
FOLDED_TEST = "model_tests_folded"

_READS_ANOTHER_RELATION = re.compile(r"\b(ref|source)\s*\(")


def generic_test_name(node: Mapping[str, Any]) -> str | None:
    """The generic test's name (not_null, unique, ...); None for a singular test or another node."""
    if node.get("resource_type") != "test":
        return None
    return (node.get("test_metadata") or {}).get("name")


def _single_model_parent(node: Mapping[str, Any]) -> bool:
    parents = node["depends_on"]["nodes"]
    return len(parents) == 1 and parents[0].startswith(("model.", "seed.", "snapshot."))


def _errors_nightly(node: Mapping[str, Any]) -> bool:
    return node["config"]["severity"].lower() == "error" and "full_history" not in node["tags"]


def is_folded(node: Mapping[str, Any]) -> bool:
    """True when the nightly build evaluates this test inside its model's model_tests_folded test."""
    kind = generic_test_name(node)
    if kind not in FOLDED_KINDS or (kind == "expression_is_true" and FOLDED_TAG not in node["tags"]):
        return False
    return _errors_nightly(node) and _single_model_parent(node)


def is_foldable_expression(node: Mapping[str, Any]) -> bool:
    """An expression_is_true test the folded test can evaluate (severity error, nightly, one model, an
    expression and where config that read no other relation): it should carry :data:`FOLDED_TAG`."""
    if generic_test_name(node) != "expression_is_true" or not (_errors_nightly(node) and _single_model_parent(node)):
        return False
    text = node["test_metadata"]["kwargs"]["expression"] + (node["config"].get("where") or "")
    return not _READS_ANOTHER_RELATION.search(text)


def folded_members(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """parent unique_id -> the names of the tests folded into its model_tests_folded test."""
    members: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if is_folded(node):
            members.setdefault(node["depends_on"]["nodes"][0], []).append(node["name"])
    return members


def folded_tests(manifest: Mapping[str, Any]) -> dict[str, str]:
    """parent unique_id -> its model_tests_folded test."""
    return {node["depends_on"]["nodes"][0]: node["name"] for node in manifest["nodes"].values()
            if generic_test_name(node) == FOLDED_TEST}
