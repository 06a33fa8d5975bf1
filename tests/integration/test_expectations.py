"""great-expectations on the raw events: the suite file against the contract, the loader and helpers, then the
real suite on a DuckDB file made with the contract's DDL: for each expectation rows that must pass and rows
that must fail (elementary-style), chunk aggregation, per-batch selection, and no files or network."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.checks import RAW_EVENTS_SUITE_PATH
from orchestration.lib import expectations as ex
from orchestration.lib.contract import (
    EVENT_TYPES,
    EXCEPTION_EVENT_TYPES,
    MAX_FUTURE_SKEW_HOURS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
)
from orchestration.lib.expectations import SuiteError, SuiteResult, raw_events_checks, run_raw_events_suite
from orchestration.lib.landing import LOG_FORMATS
from orchestration.lib.warehouse import connect, ensure_raw_schema
from orchestration.settings import REPO_ROOT

# ==================================================================================================
# The suite file and the helpers (no great-expectations run)
# ==================================================================================================


@pytest.fixture(scope="module")
def spec() -> dict:
    return ex.load_suite_spec()


def by_check(spec: dict, name: str) -> list[dict]:
    return [e for e in spec["expectations"] if e["meta"]["check_name"] == name]


# --- the suite agrees with the contract ---------------------------------------------------------


def test_suite_file_is_in_the_repository_and_is_plain_json():
    assert RAW_EVENTS_SUITE_PATH == REPO_ROOT / "orchestration" / "checks" / "raw_events_suite.json"
    assert json.loads(RAW_EVENTS_SUITE_PATH.read_text(encoding="utf-8"))["name"] == "raw_workflow_events"


def test_event_types_in_the_suite_equal_the_contract(spec):
    [exp] = by_check(spec, "event_type_in_contract")
    assert exp["type"] == "expect_column_values_to_be_in_set"
    assert exp["kwargs"]["column"] == "event_type"
    assert tuple(exp["kwargs"]["value_set"]) == EVENT_TYPES


def test_exception_condition_lists_the_contract_exception_types(spec):
    [exp] = by_check(spec, "exception_events_have_exception_id")
    cond = exp["kwargs"]["row_condition"]
    assert (cond["type"], cond["column"]["name"], cond["operator"]) == ("comparison", "event_type", "IN")
    assert tuple(cond["parameter"]) == EXCEPTION_EVENT_TYPES
    assert (exp["type"], exp["kwargs"]["column"]) == ("expect_column_values_to_not_be_null", "exception_id")


def test_log_formats_in_the_suite_equal_landing(spec):
    [exp] = by_check(spec, "log_format_known")
    assert tuple(exp["kwargs"]["value_set"]) == LOG_FORMATS


def test_every_required_field_is_not_null_and_every_text_one_not_blank(spec):
    exps = by_check(spec, "required_fields_present")
    not_null = {e["kwargs"]["column"] for e in exps if e["type"] == "expect_column_values_to_not_be_null"}
    not_blank = {e["kwargs"]["column"] for e in exps if e["type"] == "expect_column_values_to_not_match_regex"}
    assert not_null == set(REQUIRED_FIELDS)
    assert not_blank == set(REQUIRED_FIELDS) - {"event_ts"}
    assert {e["kwargs"].get("regex") for e in exps if e["kwargs"].get("regex")} == {r"^\s*$"}


def test_numeric_ranges(spec):
    ranges = {
        e["kwargs"]["column"]: (e["kwargs"].get("min_value"), e["kwargs"].get("max_value"))
        for e in spec["expectations"]
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"]["column"] in OPTIONAL_FIELDS
    }
    assert ranges == {"duration_ms": (0, None), "cost_cents": (0, None), "confidence": (0, 1)}


def test_future_check_uses_a_run_time_parameter(spec):
    [exp] = by_check(spec, "no_future_event_ts")
    assert exp["kwargs"] == {"column": "event_ts", "max_value": {"$PARAMETER": "max_event_ts"}}
    assert ex.suite_parameter_names(spec) == {"max_event_ts"}


def test_every_expectation_carries_check_name_severity_description(spec):
    for e in spec["expectations"]:
        assert set(e["meta"]) == {"check_name", "severity", "description"}
        assert e["meta"]["severity"] in ("error", "warn")
        assert e["severity"] == {"error": "critical", "warn": "warning"}[e["meta"]["severity"]]
        assert e["type"] in ex.ROW_LEVEL_EXPECTATIONS


def test_checks_and_severities():
    checks = ex.raw_events_checks()
    assert [(c.name, c.severity) for c in checks] == [
        ("required_fields_present", "error"),
        ("event_type_in_contract", "error"),
        ("no_future_event_ts", "error"),
        ("exception_events_have_exception_id", "error"),
        ("log_format_known", "error"),
        ("measures_non_negative", "error"),
        ("confidence_in_range", "warn"),
    ]
    assert all(c.description for c in checks)
    # Dagster asset check names: letters, digits, underscores
    assert all(c.name.replace("_", "").isalnum() for c in checks)


def test_suite_columns(spec):
    assert ex.suite_columns(spec) == [
        "event_id", "workflow_id", "run_id", "event_type", "event_ts", "region",
        "exception_id", "log_format", "duration_ms", "cost_cents", "confidence",
    ]


# --- the loader refuses what cannot be added up over chunks or is inconsistent ----------------------


def _write(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def _exp(**over) -> dict:
    e = {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "event_id"},
        "meta": {"check_name": "c", "severity": "error", "description": "d"},
    }
    e.update(over)
    return e


def _suite(*exps, checks=None) -> dict:
    return {
        "name": "s",
        "meta": {"checks": checks if checks is not None else {"c": {"severity": "error", "description": "d"}}},
        "expectations": list(exps),
    }


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        (_suite(_exp(type="expect_column_values_to_be_unique")), "only row-level expectations"),
        (
            _suite(_exp(type="expect_column_max_to_be_between", kwargs={"column": "event_ts", "max_value": 1})),
            "row-level",
        ),
        (_suite(_exp(meta={"check_name": "c", "severity": "error"})), "meta lacks description"),
        (_suite(_exp(meta={"check_name": "other", "severity": "error", "description": "d"})), "not declared"),
        (_suite(_exp(meta={"check_name": "c", "severity": "warn", "description": "d"})), "differs from its check"),
        (_suite(_exp(severity="warning")), "does not mirror"),
        (_suite(_exp(kwargs={})), "needs kwargs.column"),
        (_suite(), "no expectations"),
        (_suite(_exp(), checks={"c": {"severity": "fatal", "description": "d"}}), "severity error|warn"),
        (
            _suite(
                _exp(),
                checks={"c": {"severity": "error", "description": "d"}, "x": {"severity": "warn", "description": "d"}},
            ),
            "checks without expectations",
        ),
    ],
)
def test_loader_refuses(tmp_path, suite, message):
    with pytest.raises(ex.SuiteError, match=message):
        ex.load_suite_spec(_write(tmp_path, suite))


def test_loader_refuses_unreadable_file(tmp_path):
    bad = tmp_path / "suite.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ex.SuiteError, match="cannot read"):
        ex.load_suite_spec(bad)


# --- helpers --------------------------------------------------------------------------------------


def test_max_event_ts_is_as_of_plus_skew(spec):
    as_of = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    params = ex._suite_parameters(spec, as_of=as_of, future_skew=timedelta(hours=MAX_FUTURE_SKEW_HOURS), overrides=None)
    assert params == {"max_event_ts": pd.Timestamp("2026-11-22T12:00:00", tz="UTC")}
    naive = ex._suite_parameters(spec, as_of=as_of.replace(tzinfo=None), future_skew=timedelta(0), overrides=None)
    assert naive["max_event_ts"] == pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
    over = ex._suite_parameters(spec, as_of=as_of, future_skew=timedelta(0), overrides={"max_event_ts": "2030-01-01"})
    assert over["max_event_ts"] == pd.Timestamp("2030-01-01", tz="UTC")


def test_missing_suite_parameter_is_refused(tmp_path):
    between = {"column": "x", "max_value": {"$PARAMETER": "p"}}
    suite = _suite(_exp(type="expect_column_values_to_be_between", kwargs=between))
    with pytest.raises(ex.SuiteError, match=r"without a value: \['p'\]"):
        ex._suite_parameters(suite, as_of=None, future_skew=timedelta(0), overrides=None)


def test_rechunk_cuts_exact_chunks_across_batches():
    batches = [pa.record_batch({"i": list(range(s, s + n))}) for s, n in ((0, 2), (2, 5), (7, 1), (8, 4))]
    chunks = list(ex._rechunk(batches, 3))
    assert [c.num_rows for c in chunks] == [3, 3, 3, 3]
    assert [v for c in chunks for v in c.column("i").to_pylist()] == list(range(12))
    assert [c.num_rows for c in ex._rechunk(batches, 5)] == [5, 5, 2]
    assert list(ex._rechunk([], 5)) == []


def test_to_pandas_labels_naive_timestamps_utc_without_shifting():
    t = pa.table({"ts": pa.array([datetime(2026, 1, 1, 10)], pa.timestamp("us")), "s": ["a"]})
    df = ex._to_pandas(t)
    assert str(df["ts"].dtype) == "datetime64[us, UTC]"
    assert df["ts"].iloc[0] == pd.Timestamp("2026-01-01T10:00:00", tz="UTC")
    far = pa.table({"ts": pa.array([datetime(9999, 12, 31)], pa.timestamp("us"))})
    assert ex._to_pandas(far)["ts"].iloc[0].year == 9999  # no cast to ns: no overflow


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (None, None),
        (float("nan"), None),
        (pd.NaT, None),
        (pd.Timestamp("2026-01-01T10:00:00", tz="UTC"), "2026-01-01T10:00:00+00:00"),
        (pd.Series([1.5]).iloc[0], 1.5),
        (pd.Series([3]).iloc[0], 3),
        ("x", "x"),
    ],
)
def test_plain(value, plain):
    assert ex._plain(value) == plain


def test_raised_exception_reads_both_shapes_of_exception_info():
    assert ex._raised_exception(None) is None
    assert ex._raised_exception({"raised_exception": False, "exception_message": None}) is None
    assert ex._raised_exception({"raised_exception": True, "exception_message": "boom"}) == "boom"
    nested = {"MetricConfigurationID(metric_name='x')": {"raised_exception": True, "exception_message": "x"}}
    assert ex._raised_exception(nested) == "x"


def test_importing_the_module_does_not_import_great_expectations():
    """Dagster definitions import this module at load time: GX (seconds, ~300 MB) is imported only on run."""
    code = (
        "import sys, os\n"
        "import orchestration.lib.expectations as ex\n"
        "ex.raw_events_checks()\n"
        "assert 'great_expectations' not in sys.modules, 'great_expectations imported eagerly'\n"
        "assert os.environ['GX_ANALYTICS_ENABLED'] == 'False'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, env={"PATH": "/usr/bin:/bin"})


# ==================================================================================================
# The real suite on a DuckDB file
# ==================================================================================================

AS_OF = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LOOSE = "raw.workflow_events_loose"  # same columns, no NOT NULL constraints: for rows landing never writes
CHECKS = [c.name for c in raw_events_checks()]


@pytest.fixture
def con(tmp_path: Path):
    c = connect(tmp_path / "warehouse.duckdb")
    ensure_raw_schema(c)  # RAW_EVENTS_DDL from the contract
    c.execute(f"create table {LOOSE} as select * from raw.workflow_events where false")
    yield c
    c.close()


def row(i: int | str, **overrides) -> dict:
    r = {
        "event_id": f"e{i}",
        "workflow_id": "fulfillment_v2",
        "run_id": "r1",
        "event_type": "stage_completed",
        "event_ts": datetime(2026, 11, 20, 10, 0),
        "region": "us-east-1",
        "log_format": "telemetry",
        "load_id": "L1",
        "source_file": "landing/a.jsonl",
        "source_row_number": 1,
        "loaded_at": datetime(2026, 11, 21, 11, 0),
    }
    r.update(overrides)
    return r


def insert(con, rows: list[dict], table: str = "raw.workflow_events") -> None:
    for r in rows:
        cols = list(r)
        con.execute(
            f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
            [r[c] for c in cols],
        )


def run(con, **kw) -> SuiteResult:
    kw.setdefault("as_of", AS_OF)
    return run_raw_events_suite(con, **kw)


def failing(result: SuiteResult) -> dict[str, int]:
    return {c.name: c.unexpected_count for c in result.checks if not c.success}


# Rows that every check accepts, including the edges: nulls in optional fields, zeros, confidence 0 and 1,
# an event exactly at as_of + 24 h, exception events with their exception_id, a minimal-log event.
GOOD = [
    row(1, event_type="run_started"),
    row(2, duration_ms=0, cost_cents=0.0, confidence=0.0),
    row(3, duration_ms=1500, cost_cents=12.5, confidence=1.0),
    row(4, event_type="exception_raised", exception_id="x1"),
    row(5, event_type="exception_acknowledged", exception_id="x1"),
    row(6, event_type="exception_resolved", exception_id="x1"),
    row(7, event_type="stage_retried", exception_id=None),  # not an exception_* event: no id needed
    row(8, event_ts=(AS_OF + timedelta(hours=24)).replace(tzinfo=None)),  # exactly at the limit
    row(9, log_format="minimal", source_event_name="Pick"),
    row(10, event_type="run_completed", confidence=0.42),
]

# case -> (check, bad rows, table): each bad row breaks exactly one expectation, of that check
FAIL_CASES: dict[str, tuple[str, list[dict], str]] = {
    "event_id_null": ("required_fields_present", [row("x", event_id=None)], LOOSE),
    "workflow_id_null": ("required_fields_present", [row("x", workflow_id=None)], LOOSE),
    "run_id_null": ("required_fields_present", [row("x", run_id=None)], LOOSE),
    "event_type_null": ("required_fields_present", [row("x", event_type=None)], LOOSE),
    "event_ts_null": ("required_fields_present", [row("x", event_ts=None)], LOOSE),
    "region_null": ("required_fields_present", [row("x", region=None)], LOOSE),
    "blank_ids": (
        "required_fields_present",
        [row("x1", workflow_id=""), row("x2", run_id="   "), row("x3", region="\t")],
        "raw.workflow_events",
    ),
    "blank_event_id": ("required_fields_present", [row("x", event_id=" ")], "raw.workflow_events"),
    "unknown_event_type": (
        "event_type_in_contract",
        [row("x1", event_type="run_exploded"), row("x2", event_type="Run_Started")],
        "raw.workflow_events",
    ),
    "future_event_ts": (
        "no_future_event_ts",
        [
            row("x1", event_ts=(AS_OF + timedelta(hours=24, microseconds=1)).replace(tzinfo=None)),
            row("x2", event_ts=datetime(9999, 12, 31, 23, 59)),
        ],
        "raw.workflow_events",
    ),
    "exception_without_id": (
        "exception_events_have_exception_id",
        [
            row("x1", event_type="exception_raised"),
            row("x2", event_type="exception_acknowledged"),
            row("x3", event_type="exception_resolved"),
        ],
        "raw.workflow_events",
    ),
    "unknown_log_format": ("log_format_known", [row("x", log_format="xml")], "raw.workflow_events"),
    "negative_duration": ("measures_non_negative", [row("x", duration_ms=-1)], "raw.workflow_events"),
    "negative_cost": ("measures_non_negative", [row("x", cost_cents=-0.01)], "raw.workflow_events"),
    "confidence_out_of_range": (
        "confidence_in_range",
        [row("x1", confidence=1.01), row("x2", confidence=-0.5)],
        "raw.workflow_events",
    ),
}


@pytest.mark.parametrize("table", ["raw.workflow_events", LOOSE])
def test_good_rows_pass_every_check(con, table):
    insert(con, GOOD, table)
    result = run(con, table=table)
    assert result.rows == len(GOOD)
    assert failing(result) == {}
    assert result.success and not result.blocking
    assert [c.name for c in result.checks] == CHECKS
    exc = result.check("exception_events_have_exception_id").expectations[0]
    assert exc.element_count == 3  # the row_condition selects the exception_* events only


@pytest.mark.parametrize("case", list(FAIL_CASES))
def test_bad_rows_fail_their_check_and_only_it(con, case):
    check_name, bad, table = FAIL_CASES[case]
    insert(con, GOOD + bad, table)
    result = run(con, table=table)
    assert failing(result) == {check_name: len(bad)}
    check = result.check(check_name)
    broken = [e for e in check.expectations if not e.success]
    assert all(e.unexpected_count == len(e.samples) for e in broken)  # fewer than sample_size: all sampled
    assert {s.get("event_id") for s in check.samples} == {r["event_id"] for r in bad}
    assert all(e.unexpected_count == 0 for e in check.expectations if e.success)
    assert result.blocking is (check.severity == "error")
    json.dumps(result.to_dict())  # what a Dagster asset check puts in its metadata


def test_sample_values_are_the_offending_values(con):
    insert(con, GOOD + [row("x1", event_type="run_exploded"), row("x2", confidence=7.0)])
    result = run(con)
    assert result.check("event_type_in_contract").samples == ({"event_type": "run_exploded", "event_id": "ex1"},)
    assert result.check("confidence_in_range").samples == ({"confidence": 7.0, "event_id": "ex2"},)


def test_future_threshold_follows_as_of_skew_and_parameters(con):
    insert(con, [row(1, event_ts=datetime(2026, 11, 22, 6, 0))])  # as_of + 18 h
    assert run(con).check("no_future_event_ts").success
    assert run(con, as_of=AS_OF - timedelta(hours=7)).check("no_future_event_ts").success is False
    assert run(con, future_skew=timedelta(hours=1)).check("no_future_event_ts").success is False
    overridden = run(con, parameters={"max_event_ts": "2026-11-22T05:59:59"})
    assert overridden.check("no_future_event_ts").success is False
    assert overridden.parameters == {"max_event_ts": "2026-11-22T05:59:59+00:00"}


def test_warn_failure_reports_without_blocking(con):
    insert(con, GOOD + [row("x", confidence=2.0)])
    result = run(con)
    assert not result.success
    assert not result.blocking
    assert [c.name for c in result.failed_checks] == ["confidence_in_range"]
    assert result.check("confidence_in_range").severity == "warn"


# --- chunks -------------------------------------------------------------------------------------


def test_counts_add_up_across_chunks_of_three(con):
    # 10 rows in chunks of 3: 3 + 3 + 3 + 1; four bad rows spread over the chunks, one in the last
    rows = [row(i, source_row_number=i) for i in range(10)]
    for i in (0, 4, 5, 9):
        rows[i]["event_type"] = "run_exploded"
    rows[7]["confidence"] = 1.5
    insert(con, rows)

    small = run(con, chunk_rows=3, sample_size=2)
    assert (small.rows, small.chunks, small.chunk_rows) == (10, 4, 3)
    et = small.check("event_type_in_contract").expectations[0]
    assert (et.element_count, et.unexpected_count, et.missing_count) == (10, 4, 0)
    assert len(et.samples) == 2  # capped at sample_size, taken from the first chunks that had some
    conf = small.check("confidence_in_range").expectations[0]
    assert (conf.element_count, conf.missing_count, conf.unexpected_count) == (10, 9, 1)
    assert conf.unexpected_percent == 100.0

    whole = run(con, chunk_rows=1000, sample_size=2)
    assert whole.chunks == 1
    for a, b in zip(small.expectations, whole.expectations, strict=True):
        assert (a.success, a.element_count, a.missing_count, a.unexpected_count) == (
            b.success,
            b.element_count,
            b.missing_count,
            b.unexpected_count,
        ), a.expectation_type


def test_chunk_size_one_and_conditional_expectation(con):
    insert(con, GOOD + [row("x", event_type="exception_raised")])
    result = run(con, chunk_rows=1)
    assert result.chunks == len(GOOD) + 1
    exc = result.check("exception_events_have_exception_id").expectations[0]
    assert (exc.element_count, exc.unexpected_count) == (4, 1)


def test_empty_selection_succeeds_with_zero_counts(con):
    result = run(con)
    assert (result.rows, result.chunks, result.success) == (0, 0, True)
    assert all(e.element_count == 0 for e in result.expectations)


# --- selecting a landed batch, connections and paths ---------------------------------------------


def test_validate_one_landed_batch(con):
    insert(con, [row(1, load_id="L1"), row(2, load_id="L1")])
    insert(con, [row(3, load_id="L2", event_type="run_exploded"), row(4, load_id="L2")])
    assert run(con, load_id="L1").success
    l2 = run(con, load_id="L2")
    assert (l2.rows, l2.load_id, failing(l2)) == (2, "L2", {"event_type_in_contract": 1})
    assert run(con, load_id="nope").rows == 0
    assert run(con, where="source_file like 'landing/%'").rows == 4
    assert run(con, load_id="L2", where="event_id = 'e4'").success


def test_path_is_opened_read_only_and_closed(con, tmp_path):
    insert(con, GOOD)
    con.close()
    path = tmp_path / "warehouse.duckdb"
    assert run_raw_events_suite(path, as_of=AS_OF).rows == len(GOOD)
    writer = duckdb.connect(str(path))  # the file is free again: nothing left open
    writer.close()


def test_given_connection_is_left_open(con):
    insert(con, GOOD)
    run(con)
    assert con.execute("select count(*) from raw.workflow_events").fetchone() == (len(GOOD),)


def test_unexpected_column_type_is_an_error_not_a_data_failure(con):
    con.execute(
        "create table raw.typo as select * replace (confidence::varchar as confidence) from raw.workflow_events"
    )
    insert(con, [row(1, confidence="high")], "raw.typo")
    with pytest.raises(SuiteError, match="could not evaluate expect_column_values_to_be_between on confidence"):
        run(con, table="raw.typo")


def test_path_is_closed_even_when_the_suite_errors(con, tmp_path):
    con.execute(
        "create table raw.typo as select * replace (confidence::varchar as confidence) from raw.workflow_events"
    )
    insert(con, [row(1, confidence="high")], "raw.typo")
    con.close()
    path = tmp_path / "warehouse.duckdb"
    with pytest.raises(SuiteError):
        run_raw_events_suite(path, table="raw.typo", as_of=AS_OF)
    duckdb.connect(str(path)).close()  # not left open by the failed run


def test_table_name_must_be_an_identifier(con):
    with pytest.raises(ValueError, match="plain"):
        run(con, table="raw.workflow_events; drop table x")
    with pytest.raises(ValueError, match="chunk_rows"):
        run(con, chunk_rows=0)


# --- no files, no network, no telemetry ----------------------------------------------------------

_VOLATILE = {
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "target", "logs", ".dagster_home", "warehouse",
}


def _tree(root: Path) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _VOLATILE]
        rel = Path(dirpath).relative_to(root)
        out.update(str(rel / n) for n in dirnames + filenames)
    return out


def test_writes_no_files_and_opens_no_connection(con, tmp_path, monkeypatch):
    insert(con, GOOD + [row("x", event_type="run_exploded")])
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    before = _tree(REPO_ROOT)
    for cwd in (workdir, REPO_ROOT):  # wherever it is run from, nothing is written there
        monkeypatch.chdir(cwd)
        result = run(con)
        assert failing(result) == {"event_type_in_contract": 1}
    new = _tree(REPO_ROOT) - before
    assert not [p for p in new if "great_expectations" in p or p.startswith(("gx", "uncommitted"))]
    assert new == set(), f"files appeared in the repository: {sorted(new)}"
    assert list(workdir.iterdir()) == []
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"
