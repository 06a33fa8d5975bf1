"""Deterministic sample-data generator: workflow telemetry events and a minimal event log.

Sample data, not production code: nothing outside tests, the CLI's ``generate`` and the benchmark
imports it. The public API is this module's names.

``generate_events`` simulates runs of every workflow in the governance register (plus a small
share of an unregistered ``legacy_batch_v0``) over ``[end_date - days, end_date)`` UTC and returns a
pyarrow table whose visible columns are exactly ``contract.TELEMETRY_FIELDS``. ``write_events``
serialises it as JSONL, CSV or Parquet. ``generate_minimal_log`` produces the seed-001 "minimum
viable event log" (case_id, event_name, timestamp, actor, ...) for an order-to-ship journey.

Where each job lives:

| module | job |
|---|---|
| ``workflows.yml`` + ``specs.py`` | the shape of each workflow (stages, retries, approvals, exception mix) as data, validated on load |
| ``simulate.py`` | runs and their stage / approval / exception events, per workflow, into a columnar buffer |
| ``attributes.py`` | the fake business object of each run (some fields to redact) |
| ``render.py`` | buffer -> the contract's columns: ids, timestamps with offsets, owners, hostile strings, late arrival |
| ``defects.py`` | one function per defect kind the landing must quarantine |
| ``writers.py`` | one writer per format |
| ``minimal.py`` | the minimal event log |
| ``events.py`` | ``generate_events``: the steps above in order |

Determinism: every random draw comes from ``numpy.random.Generator`` seeded from ``seed``, in a fixed
order (the steps run in sequence; reordering them changes the bytes); ids are derived from a
bijective 64-bit mix of a namespace (sha256 of the generation arguments) and a counter, so the same
arguments give the same bytes in every format (tests/unit/test_generator_bytes.py pins them).

Column types of the table (and of the Parquet file): strings for ids, ``event_ts`` (ISO 8601 text)
and ``attributes`` (JSON object as text); int64 ``duration_ms``/``severity``/``attempt``; float64
``cost_cents``/``confidence``; all optional columns nullable.

Hidden column: ``_raw`` (string). When non-null the row is a format-specific defect and
``write_events`` writes that text verbatim as the row's line (JSONL: truncated JSON, or a number
field holding text; CSV: a record with text in a number column). The format it was rendered for is
in the schema metadata ``generator.fmt``; for any other format those rows are skipped. Parquet
output never contains ``_raw`` rows. ``write_events`` never writes the hidden column.

Durations: the time components of each workflow are drawn in relative units and scaled so the p90
cycle time (run_started -> run_completed) of the generated completed runs lands at
``sla.cycle_time_p90_hours x p90_ratio`` (ratio per workflow spec: some above 1, some below).
``duration_ms`` is the elapsed time since the matching start event on stage_completed /
stage_timed_out (since stage_started), run_completed / run_failed (since run_started) and
approval_granted / approval_rejected (since approval_requested). ``cost_cents`` is only on
stage_completed and stage_timed_out, so it can be summed without double counting.
"""
from __future__ import annotations

from orchestration.lib.generator.common import (
    FMT_METADATA_KEY,
    FORMATS,
    JSON_COLUMNS,
    MINIMAL_LOG_COLUMNS,
    RAW_COLUMN,
)
from orchestration.lib.generator.defects import DEFECT_KINDS, DEFECT_KINDS_COMMON
from orchestration.lib.generator.events import generate_events
from orchestration.lib.generator.minimal import generate_minimal_log
from orchestration.lib.generator.specs import (
    Catalog,
    SpecError,
    StageSpec,
    WorkflowSpec,
    default_catalog,
    load_catalog,
)
from orchestration.lib.generator.writers import write_events

#: the workflow that is not in the register (from workflows.yml)
LEGACY_WORKFLOW_ID: str = default_catalog().unregistered.workflow_id

__all__ = [
    "DEFECT_KINDS",
    "DEFECT_KINDS_COMMON",
    "FMT_METADATA_KEY",
    "FORMATS",
    "JSON_COLUMNS",
    "LEGACY_WORKFLOW_ID",
    "MINIMAL_LOG_COLUMNS",
    "RAW_COLUMN",
    "Catalog",
    "SpecError",
    "StageSpec",
    "WorkflowSpec",
    "default_catalog",
    "generate_events",
    "generate_minimal_log",
    "load_catalog",
    "write_events",
]
