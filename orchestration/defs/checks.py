"""great-expectations checks on the landed events, as Dagster asset checks of ``raw_workflow_events``.

The suite (orchestration/checks/raw_events_suite.json, run by orchestration.lib.expectations) validates
the rows each materialization of ``raw_workflow_events`` landed, batch by batch (one ``load_id`` per
file), on the landing step's own DuckDB connection, right after the files land: one asset check per
suite check (``gx_<check_name>``). Checks of severity ``error`` are **blocking**: when one fails, Dagster
does not materialize anything downstream in the run (no dbt step, so the marts keep their last good
build); ``warn`` checks report only. The SQL checks that need the whole table (event_id uniqueness,
run lifecycle, exception ordering, volume, freshness) are dbt tests, shown as checks of the dbt assets.

A materialization that landed nothing new (every file already in the ledger) validates nothing: each
check passes with ``rows_validated = 0``, because the rows already in the table were validated when
they landed.

The history suite (orchestration/checks/batch_history_suite.json, run by orchestration.lib.batch_history)
adds three ``warn`` checks that compare each landed batch with the batches before it: volume, null share
of each optional field, event-type mix. A batch with too little history is not compared (the checks
pass; ``batches_compared`` says how many were).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import dagster as dg
import duckdb

from orchestration.lib.batch_history import batch_history_checks, compare_batch_to_history
from orchestration.lib.expectations import CheckResult, CheckSpec, raw_events_checks, run_raw_events_suite

#: Prefix of the great-expectations asset checks' names (the dbt tests keep their dbt names).
CHECK_PREFIX = "gx_"


def gx_check_name(check_name: str) -> str:
    return f"{CHECK_PREFIX}{check_name}"


def _suite_checks() -> list[tuple[str, CheckSpec]]:
    """(suite, check) for both suites, row-level first."""
    return [("raw_events_suite", c) for c in raw_events_checks()] + [
        ("batch_history_suite", c) for c in batch_history_checks()
    ]


def gx_check_specs(asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """One AssetCheckSpec per suite check, declared from the suite files alone (no GX import at load)."""
    return [
        dg.AssetCheckSpec(
            name=gx_check_name(spec.name),
            asset=asset_key,
            description=f"[great-expectations, severity {spec.severity}] {spec.description}",
            blocking=spec.severity == "error",
            metadata={"severity": spec.severity, "suite": suite},
        )
        for suite, spec in _suite_checks()
    ]


def _merge(results: Sequence[CheckResult]) -> tuple[bool, int, list[dict]]:
    success = all(r.success for r in results)
    unexpected = sum(r.unexpected_count for r in results)
    samples = [s for r in results for s in r.samples][:10]
    return success, unexpected, samples


def gx_check_results(
    con: duckdb.DuckDBPyConnection,
    asset_key: dg.AssetKey,
    loads: Iterable[tuple[str, datetime | None]],
) -> list[dg.AssetCheckResult]:
    """Run both suites over each landed batch ``(load_id, loaded_at)`` and report one result per check."""
    loads = list(loads)
    per_check: dict[str, list[CheckResult]] = {spec.name: [] for _, spec in _suite_checks()}
    rows = compared = 0
    for load_id, loaded_at in loads:
        suite = run_raw_events_suite(con, load_id=load_id, as_of=loaded_at)
        rows += suite.rows
        history = compare_batch_to_history(con, load_id)
        compared += history.compared
        for check in suite.checks + (history.result.checks if history.result else ()):
            per_check.setdefault(check.name, []).append(check)
    severity = {spec.name: spec.severity for _, spec in _suite_checks()}
    history_checks = {spec.name for spec in batch_history_checks()}
    results = []
    for name, checks in per_check.items():
        success, unexpected, samples = _merge(checks)
        results.append(
            dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=gx_check_name(name),
                passed=success,
                severity=dg.AssetCheckSeverity.ERROR if severity[name] == "error" else dg.AssetCheckSeverity.WARN,
                metadata={
                    "batches_validated": len(loads),
                    "rows_validated": rows,
                    "unexpected_rows": unexpected,
                    "samples": dg.MetadataValue.json(samples),
                    **({"batches_compared": compared} if name in history_checks else {}),
                },
            )
        )
    return results
