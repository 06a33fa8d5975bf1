"""great-expectations on the raw events: the repository's suite, run over bounded chunks of a DuckDB table.

What runs here
    The suite ``orchestration/checks/raw_events_suite.json`` (a reviewed file in great-expectations' own
    suite format) holds the row-level expectations on ``raw.workflow_events``: required fields present,
    event_type in the contract, no event_ts after ``as_of`` + skew, exception_* events carry an
    exception_id, log_format known, duration_ms/cost_cents not negative, confidence in 0..1. Each
    expectation's ``meta`` names the check it belongs to (``check_name``), its ``severity`` (``error``
    blocks the downstream marts, ``warn`` reports) and a ``description``. Several expectations may share
    one check (required_fields_present is eleven); a check is what a Dagster asset check reports.

How it runs
    Rows are read with ``con.sql(query).to_arrow_reader()`` (DuckDB streams; a DB-API
    ``con.execute(...)`` result would materialise the whole table first), re-cut into chunks of exactly
    ``chunk_rows`` rows (the last one shorter), turned into one pandas frame at a time and validated by a
    pandas datasource of an EPHEMERAL great-expectations context: nothing is written to disk, no
    ``great_expectations/``/``gx/`` folder appears in the repository or the working directory, analytics
    and progress bars are off. Per-chunk results are added up into one result per expectation
    (success, element/missing/unexpected counts, a few sample rows), and per check.
    Only the suite's columns are read. Memory is bounded by ``chunk_rows`` and by the DuckDB connection's
    memory_limit (its block cache), not by the table size: see docs/data-quality.md for the measurements
    and for why great-expectations' SQL datasource is not used (with duckdb-engine it fails on every
    expectation: "list index out of range").

What does NOT run here
    Expectations that need more than one chunk at a time cannot be added up per chunk and are left to
    SQL (dbt tests): event_id uniqueness, exactly one run_started per run, exactly one terminal event per
    ended run, exception_acknowledged/resolved never before their exception_raised, volume and freshness.
    Only expectations whose result is a per-row verdict (map expectations) are allowed in the suite; the
    loader refuses aggregate expectations (column max, row count, uniqueness), whose per-chunk results do
    not add up.

API
    :func:`run_raw_events_suite` runs the suite and returns a :class:`SuiteResult`;
    :func:`raw_events_checks` lists the suite's checks (name, severity, description) from the JSON alone,
    without importing great-expectations, for declaring Dagster asset checks at definition time.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from orchestration.checks import RAW_EVENTS_SUITE_PATH
from orchestration.lib.contract import MAX_FUTURE_SKEW_HOURS, RAW_SCHEMA

# Telemetry off before great_expectations is ever imported (it is imported lazily, in _gx()).
os.environ["GX_ANALYTICS_ENABLED"] = "False"

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

Severity = Literal["error", "warn"]
SEVERITIES: tuple[str, ...] = ("error", "warn")
#: great-expectations' own severity field mirrors the project's meta.severity.
GX_SEVERITY: dict[str, str] = {"error": "critical", "warn": "warning"}

RAW_EVENTS_TABLE = f"{RAW_SCHEMA}.workflow_events"
#: Default rows per chunk: ~0.3 GB working set on top of ~0.3 GB for GX itself; see docs/data-quality.md.
DEFAULT_CHUNK_ROWS = 250_000
#: Sample unexpected rows kept per expectation (summed over chunks, the first ones found).
DEFAULT_SAMPLE_SIZE = 5
#: DuckDB memory limit of the read-only connection opened when given a path: caps DuckDB's cache of the
#: table's blocks, which otherwise grows with the rows read (up to DuckDB's default, 80% of RAM).
OWN_CONNECTION_MEMORY_LIMIT = "256MB"
#: The column that identifies a row in the samples.
INDEX_COLUMN = "event_id"

#: Expectations whose result is one verdict per row, so per-chunk counts add up to the table's.
ROW_LEVEL_EXPECTATIONS: frozenset[str] = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_value_lengths_to_be_between",
    }
)

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class SuiteError(ValueError):
    """The suite file is invalid, or great-expectations could not evaluate an expectation."""


# --------------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckSpec:
    """One check of the suite, as declared in its meta (no great-expectations needed)."""

    name: str
    severity: Severity
    description: str


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's result over every chunk.

    ``element_count`` is the number of rows the expectation looked at (for a conditional expectation,
    the rows matching its row_condition), ``missing_count`` the nulls among them (ignored by all but the
    null expectations), ``unexpected_count`` the rows that broke it. ``samples`` are up to
    ``sample_size`` unexpected rows as ``{event_id: ..., <column>: value}``, JSON-ready.
    """

    check_name: str
    severity: Severity
    description: str
    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    element_count: int
    missing_count: int
    unexpected_count: int
    samples: tuple[dict[str, Any], ...]

    @property
    def unexpected_percent(self) -> float | None:
        """Unexpected rows in percent of the non-null rows looked at (None when there were none)."""
        denominator = self.element_count - self.missing_count
        if self.expectation_type.endswith("_to_not_be_null") or self.expectation_type.endswith("_to_be_null"):
            denominator = self.element_count
        return 100.0 * self.unexpected_count / denominator if denominator else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["samples"] = list(self.samples)
        out["unexpected_percent"] = self.unexpected_percent
        return out


@dataclass(frozen=True)
class CheckResult:
    """All expectations of one check added up: what one Dagster asset check reports."""

    name: str
    severity: Severity
    description: str
    expectations: tuple[ExpectationResult, ...]

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def blocking(self) -> bool:
        """True when the check failed with severity error (the downstream marts must not build)."""
        return not self.success and self.severity == "error"

    @property
    def unexpected_count(self) -> int:
        return sum(e.unexpected_count for e in self.expectations)

    @property
    def samples(self) -> tuple[dict[str, Any], ...]:
        return tuple(s for e in self.expectations for s in e.samples)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "description": self.description,
            "success": self.success,
            "blocking": self.blocking,
            "unexpected_count": self.unexpected_count,
            "expectations": [e.to_dict() for e in self.expectations],
        }


@dataclass(frozen=True)
class SuiteResult:
    """The suite's result over the selected rows of the table.

    ``rows`` rows were read in ``chunks`` chunks of at most ``chunk_rows``; ``parameters`` are the suite
    parameters used (``max_event_ts`` as an ISO string). With no rows every expectation succeeds with
    zero counts (an empty batch breaks no row-level rule; volume is a separate check).
    """

    suite_name: str
    table: str
    load_id: str | None
    where: str | None
    rows: int
    chunks: int
    chunk_rows: int
    parameters: dict[str, Any]
    expectations: tuple[ExpectationResult, ...]
    checks: tuple[CheckResult, ...] = field(default=())

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def blocking(self) -> bool:
        """True when any check with severity error failed."""
        return any(c.blocking for c in self.checks)

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if not c.success)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r} in suite {self.suite_name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite_name": self.suite_name,
            "table": self.table,
            "load_id": self.load_id,
            "where": self.where,
            "rows": self.rows,
            "chunks": self.chunks,
            "chunk_rows": self.chunk_rows,
            "parameters": self.parameters,
            "success": self.success,
            "blocking": self.blocking,
            "checks": [c.to_dict() for c in self.checks],
        }


# --------------------------------------------------------------------------------------------------
# The suite file
# --------------------------------------------------------------------------------------------------


def _check_expectation(where: str, exp: Mapping[str, Any], checks: Mapping[str, Any]) -> str:
    """One expectation of the suite file is row-level and names a declared check; returns the check."""
    if exp.get("type") not in ROW_LEVEL_EXPECTATIONS:
        raise SuiteError(f"{where}: only row-level expectations add up over chunks: {sorted(ROW_LEVEL_EXPECTATIONS)}")
    meta = exp.get("meta") or {}
    missing = [k for k in ("check_name", "severity", "description") if not meta.get(k)]
    if missing:
        raise SuiteError(f"{where}: meta lacks {', '.join(missing)}")
    check = checks.get(meta["check_name"])
    if check is None:
        raise SuiteError(f"{where}: check {meta['check_name']!r} is not declared in meta.checks")
    if meta["severity"] != check["severity"]:
        raise SuiteError(f"{where}: severity {meta['severity']!r} differs from its check's {check['severity']!r}")
    if exp.get("severity", GX_SEVERITY[meta["severity"]]) != GX_SEVERITY[meta["severity"]]:
        raise SuiteError(f"{where}: GX severity {exp['severity']!r} does not mirror meta.severity {meta['severity']!r}")
    if not (exp.get("kwargs") or {}).get("column"):
        raise SuiteError(f"{where}: a column expectation needs kwargs.column")
    return meta["check_name"]


def load_suite_spec(path: Path | str = RAW_EVENTS_SUITE_PATH) -> dict[str, Any]:
    """Read and check the suite file: every expectation row-level, with meta check_name/severity/description
    matching a check declared in ``meta.checks``, and great-expectations' severity mirroring it."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"cannot read the suite {path}: {exc}") from exc
    checks = spec.get("meta", {}).get("checks")
    if not isinstance(checks, dict) or not checks:
        raise SuiteError(f"{path}: meta.checks must declare the suite's checks")
    for name, check in checks.items():
        if check.get("severity") not in SEVERITIES or not check.get("description"):
            raise SuiteError(f"{path}: check {name!r} needs severity error|warn and a description")
    used = {
        _check_expectation(f"{path}: expectation {i} ({exp.get('type')})", exp, checks)
        for i, exp in enumerate(spec.get("expectations") or [])
    }
    if not used:
        raise SuiteError(f"{path}: the suite has no expectations")
    unused = set(checks) - used
    if unused:
        raise SuiteError(f"{path}: checks without expectations: {sorted(unused)}")
    return spec


def raw_events_checks(path: Path | str = RAW_EVENTS_SUITE_PATH) -> tuple[CheckSpec, ...]:
    """The suite's checks in file order, from the JSON alone (cheap: for declaring Dagster asset checks)."""
    spec = load_suite_spec(path)
    return tuple(
        CheckSpec(name=name, severity=c["severity"], description=c["description"])
        for name, c in spec["meta"]["checks"].items()
    )


def suite_parameter_names(spec: Mapping[str, Any]) -> set[str]:
    """Names of the suite parameters (``{"$PARAMETER": name}``) the expectations use."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "$PARAMETER" in value:
                names.add(value["$PARAMETER"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for exp in spec["expectations"]:
        walk(exp.get("kwargs"))
    return names


def suite_columns(spec: Mapping[str, Any]) -> list[str]:
    """Columns the suite reads (its expectations' columns and row_condition columns), plus event_id."""
    cols: list[str] = [INDEX_COLUMN]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            col = value.get("column")
            if isinstance(col, dict) and isinstance(col.get("name"), str):
                add(col["name"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    def add(name: str) -> None:
        if name not in cols:
            cols.append(name)

    for exp in spec["expectations"]:
        add(exp["kwargs"]["column"])
        walk(exp["kwargs"].get("row_condition"))
    return cols


# --------------------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------------------


def run_raw_events_suite(
    con_or_path: duckdb.DuckDBPyConnection | str | os.PathLike[str],
    *,
    load_id: str | None = None,
    where: str | None = None,
    as_of: datetime | None = None,
    future_skew: timedelta = timedelta(hours=MAX_FUTURE_SKEW_HOURS),
    parameters: Mapping[str, Any] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    suite_path: Path | str = RAW_EVENTS_SUITE_PATH,
    table: str = RAW_EVENTS_TABLE,
) -> SuiteResult:
    """Validate ``table`` (default raw.workflow_events) with the repository's suite, ``chunk_rows`` rows at a time.

    Args:
        con_or_path: an open DuckDB connection (used as is and left open; its memory_limit bounds DuckDB's
            block cache) or the path of a DuckDB file (opened read-only with memory_limit
            OWN_CONNECTION_MEMORY_LIMIT, closed afterwards). A process that already holds the file open,
            e.g. the Dagster step that landed the batch, must pass its connection: DuckDB refuses a second
            connection to the same file with another configuration.
        load_id: validate only the rows of this landed batch (``load_id = ?``, bound as a parameter).
        where: an extra SQL predicate on the table, ANDed with load_id. Trusted SQL from code only, never
            user input.
        as_of: the instant "now" for the future check (default: the current time; tz-naive means UTC).
            For a landed batch, pass the landing's own ``now`` so the check agrees with landing.
        future_skew: how far after ``as_of`` an event_ts may be (default MAX_FUTURE_SKEW_HOURS, as landing).
        parameters: suite parameters overriding the computed ones (e.g. ``{"max_event_ts": ...}``).
        chunk_rows: rows per validated chunk: the memory bound (see docs/data-quality.md).
        sample_size: unexpected sample rows kept per expectation.
        suite_path: the suite file (default orchestration/checks/raw_events_suite.json).
        table: ``schema.table`` to read (a plain identifier; tests point it at an unconstrained copy).

    Raises:
        SuiteError: the suite file is invalid, a suite parameter is missing, or great-expectations could not
            evaluate an expectation (a broken suite or an unexpected column type is not bad data).
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    if not _TABLE_NAME.match(table):
        raise ValueError(f"table must be a plain [schema.]name, got {table!r}")
    spec = load_suite_spec(suite_path)
    params = _suite_parameters(spec, as_of=as_of, future_skew=future_skew, overrides=parameters)
    columns = suite_columns(spec)

    suite, batch_definition = _gx_suite(spec)
    result_format = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": max(sample_size, 1),
        "unexpected_index_column_names": [INDEX_COLUMN],
    }
    totals = {exp.id: _Totals() for exp in suite.expectations}

    rows = chunks = 0
    frames = _frames(con_or_path, table=table, columns=columns, load_id=load_id, where=where, chunk_rows=chunk_rows)
    with contextlib.closing(frames):  # closes a connection we opened even when a chunk raises
        for frame in frames:
            rows += len(frame)
            chunks += 1
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            validation = batch.validate(suite, expectation_parameters=params, result_format=result_format)
            for res in validation.results:
                problem = _raised_exception(res.exception_info)
                if problem is not None:
                    raise SuiteError(
                        f"great-expectations could not evaluate {res.expectation_config.type} on "
                        f"{res.expectation_config.kwargs.get('column')}: {problem}"
                    )
                if not res.success and not (res.result or {}).get("unexpected_count"):
                    raise SuiteError(
                        f"great-expectations failed {res.expectation_config.type} on "
                        f"{res.expectation_config.kwargs.get('column')} without counting an unexpected row"
                    )
                totals[res.expectation_config.id].add(res, sample_size)
            del frame, batch, validation

    expectation_results = tuple(
        _expectation_result(exp_spec, totals[exp.id])
        for exp_spec, exp in zip(spec["expectations"], suite.expectations, strict=True)
    )
    checks = tuple(
        CheckResult(
            name=name,
            severity=c["severity"],
            description=c["description"],
            expectations=tuple(e for e in expectation_results if e.check_name == name),
        )
        for name, c in spec["meta"]["checks"].items()
    )
    return SuiteResult(
        suite_name=spec["name"],
        table=table,
        load_id=load_id,
        where=where,
        rows=rows,
        chunks=chunks,
        chunk_rows=chunk_rows,
        parameters={k: _plain(v) for k, v in params.items()},
        expectations=expectation_results,
        checks=checks,
    )


def _raised_exception(info: Mapping[str, Any] | None) -> str | None:
    """The exception message great-expectations recorded for an expectation, if any. It is either flat
    ({raised_exception, exception_message}) or, for a metric that failed to resolve, one such dict per
    metric keyed by the metric's id."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or "unknown error")
    return None


@dataclass
class _Totals:
    success: bool = True
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, res: Any, sample_size: int) -> None:
        r = res.result or {}
        self.success = self.success and bool(res.success)
        self.element_count += int(r.get("element_count") or 0)
        self.missing_count += int(r.get("missing_count") or 0)
        self.unexpected_count += int(r.get("unexpected_count") or 0)
        if len(self.samples) < sample_size:
            column = res.expectation_config.kwargs.get("column")
            indexed = r.get("partial_unexpected_index_list") or []
            if indexed:
                found = [{k: _plain(v) for k, v in row.items()} for row in indexed]
            else:
                found = [{column: _plain(v)} for v in r.get("partial_unexpected_list") or []]
            self.samples.extend(found[: sample_size - len(self.samples)])


def _expectation_result(exp_spec: Mapping[str, Any], totals: _Totals) -> ExpectationResult:
    meta = exp_spec["meta"]
    kwargs = dict(exp_spec["kwargs"])
    return ExpectationResult(
        check_name=meta["check_name"],
        severity=meta["severity"],
        description=meta["description"],
        expectation_type=exp_spec["type"],
        column=kwargs.get("column"),
        kwargs=kwargs,
        success=totals.success,
        element_count=totals.element_count,
        missing_count=totals.missing_count,
        unexpected_count=totals.unexpected_count,
        samples=tuple(totals.samples),
    )


def _suite_parameters(
    spec: Mapping[str, Any],
    *,
    as_of: datetime | None,
    future_skew: timedelta,
    overrides: Mapping[str, Any] | None,
) -> dict[str, Any]:
    import pandas as pd

    now = as_of or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    params: dict[str, Any] = {"max_event_ts": pd.Timestamp(now + future_skew).tz_convert("UTC")}
    for name, value in (overrides or {}).items():
        if name == "max_event_ts":
            value = pd.Timestamp(value)
            value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
        params[name] = value
    needed = suite_parameter_names(spec)
    missing = needed - set(params)
    if missing:
        raise SuiteError(f"suite parameters without a value: {sorted(missing)}")
    return {k: v for k, v in params.items() if k in needed}


def _gx_suite(spec: Mapping[str, Any]) -> tuple[Any, Any]:
    """An ephemeral, in-memory great-expectations context with the suite and a pandas batch definition."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    # Stable ids, so each result is matched back to its expectation whatever order GX reports them in.
    expectations = [
        {**exp, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec['name']}/{i}"))}
        for i, exp in enumerate(spec["expectations"])
    ]
    suite = gx.ExpectationSuite(name=spec["name"], expectations=expectations, meta=spec.get("meta"))
    if len(suite.expectations) != len(expectations):
        # ExpectationSuite logs and drops an invalid expectation instead of raising.
        raise SuiteError(
            f"great-expectations refused {len(expectations) - len(suite.expectations)} expectation(s) "
            f"of suite {spec['name']!r}; see the log for the invalid configuration"
        )
    batch_definition = (
        context.data_sources.add_pandas(name="raw_events")
        .add_dataframe_asset(name="chunk")
        .add_batch_definition_whole_dataframe(name="chunk")
    )
    return suite, batch_definition


def _frames(
    con_or_path: duckdb.DuckDBPyConnection | str | os.PathLike[str],
    *,
    table: str,
    columns: list[str],
    load_id: str | None,
    where: str | None,
    chunk_rows: int,
) -> Iterator[pd.DataFrame]:
    """The selected rows as pandas frames of exactly chunk_rows rows (the last shorter), one at a time."""
    predicates, params = [], []
    if load_id is not None:
        predicates.append("load_id = ?")
        params.append(load_id)
    if where:
        predicates.append(f"({where})")
    query = f"select {', '.join(_quote(c) for c in columns)} from {table}"
    if predicates:
        query += " where " + " and ".join(predicates)

    own = not isinstance(con_or_path, duckdb.DuckDBPyConnection)
    con = (
        duckdb.connect(str(con_or_path), read_only=True, config={"memory_limit": OWN_CONNECTION_MEMORY_LIMIT})
        if own
        else con_or_path
    )
    try:
        # con.sql streams; con.execute(...).to_arrow_reader() would first materialise every row.
        reader = con.sql(query, params=params or None).to_arrow_reader(min(chunk_rows, 1 << 17))
        for table_chunk in _rechunk(reader, chunk_rows):
            yield _to_pandas(table_chunk)
    finally:
        if own:
            con.close()


def _rechunk(batches: Iterable[pa.RecordBatch], chunk_rows: int) -> Iterator[pa.Table]:
    """Re-cut a stream of record batches into tables of exactly chunk_rows rows (the last shorter)."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    have = 0
    for batch in batches:
        while batch.num_rows:
            take = min(batch.num_rows, chunk_rows - have)
            pending.append(batch.slice(0, take))
            have += take
            batch = batch.slice(take)
            if have == chunk_rows:
                yield pa.Table.from_batches(pending)
                pending, have = [], 0
    if have:
        yield pa.Table.from_batches(pending)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas; naive timestamps (UTC by contract) become tz-aware UTC, which is a relabelling,
    not a conversion, and keeps great-expectations' comparisons vectorised (it maps naive non-ns
    datetimes value by value, ~10x slower) while keeping the full timestamp range (no cast to ns)."""
    import pyarrow as pa

    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit, tz="UTC"), f.nullable)
        if pa.types.is_timestamp(f.type) and f.type.tz is None
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields)).to_pandas()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _plain(value: Any) -> Any:
    """A JSON-ready version of a value from pandas/numpy (timestamps as ISO strings, NaN/NaT as None)."""
    if value is None or str(value) in ("NaT", "nan", "<NA>"):
        return None
    if hasattr(value, "isoformat") and isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
