"""Unit tests for the sample-data generator (orchestration/lib/generator/). Small sizes; < 20 s."""
from __future__ import annotations

import csv
import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.lib.contract import (
    EVENT_TYPES,
    EXCEPTION_EVENT_TYPES,
    MINIMAL_REQUIRED_FIELDS,
    REQUIRED_FIELDS,
    TELEMETRY_FIELDS,
)
from orchestration.lib.generator import (
    DEFECT_KINDS,
    LEGACY_WORKFLOW_ID,
    RAW_COLUMN,
    generate_events,
    generate_minimal_log,
    write_events,
)
from orchestration.lib.register import load_register

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 11, 21)
HORIZON = datetime(2026, 11, 21, tzinfo=UTC)
FORMATS = ("jsonl", "csv", "parquet")
NUMBER_FIELDS = {"duration_ms": int, "cost_cents": float, "confidence": float, "severity": int, "attempt": int}


@pytest.fixture(scope="module")
def register():
    return load_register(REPO / "command_center.yml")


@pytest.fixture(scope="module")
def moderate(register):
    """~45k clean events: big enough for every event type and exception class to occur."""
    return generate_events(days=30, runs_per_day=20, seed=11, end_date=END, defect_rate=0.0, register=register)


def _write(tmp_path: Path, table: pa.Table, fmt: str, name: str = "events") -> Path:
    path = tmp_path / f"{name}.{fmt}"
    n = write_events(table, path, fmt)
    assert n > 0
    return path


def _read_records(path: Path, fmt: str) -> list[dict | str]:
    """Rows as dicts of raw values (strings / JSON values), or the raw text for unparseable JSONL lines."""
    if fmt == "jsonl":
        out: list[dict | str] = []
        for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                out.append(line)
                continue
            out.append(rec if isinstance(rec, dict) else line)
        return out
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return [{k: (v if v != "" else None) for k, v in r.items()} for r in rows]
    return pq.read_table(path).to_pylist()


def _parse_ts(value: str) -> datetime | None:
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _required_reason(rec: dict) -> str | None:
    for f in REQUIRED_FIELDS:
        v = rec.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            return f"missing_{f}"
    for f in ("event_id", "workflow_id", "run_id", "region", "exception_id"):
        v = rec.get(f)
        if isinstance(v, str) and (len(v) > 256 or any(ord(c) < 32 or ord(c) == 127 for c in v)):
            return "invalid_identifier"
    return None


def _type_reason(rec: dict, fmt: str) -> str | None:
    """Number fields that are not numbers (converted in place when they are), attributes not an object."""
    for f, typ in NUMBER_FIELDS.items():
        v = rec.get(f)
        if v is None:
            continue
        if isinstance(v, str):
            try:
                v = typ(v)
            except ValueError:
                return "invalid_type_number"
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return "invalid_type_number"
        rec[f] = v
    attrs = rec.get("attributes")
    if attrs is not None:
        obj = json.loads(attrs) if isinstance(attrs, str) and fmt != "jsonl" else attrs
        if not isinstance(obj, dict):
            return "invalid_type_attributes"
    return None


def _range_reason(rec: dict) -> str | None:
    for f in ("duration_ms", "cost_cents", "attempt"):
        if rec.get(f) is not None and rec[f] < 0:
            return f"negative_{f}"
    if rec.get("confidence") is not None and not 0 <= rec["confidence"] <= 1:
        return "confidence_out_of_range"
    if rec["event_type"] in EXCEPTION_EVENT_TYPES and not rec.get("exception_id"):
        return "missing_exception_id"
    return None


def _classify(rec: dict | str, seen: set[str], fmt: str) -> str | None:
    """The first contract reason that applies to a record (None = valid). Mirrors contract.REASON_CODES."""
    if isinstance(rec, str):
        return "malformed_record"
    reason = _required_reason(rec)
    if reason:
        return reason
    ts = _parse_ts(rec["event_ts"])
    if ts is None:
        return "unparseable_timestamp"
    if rec["event_type"] not in EVENT_TYPES:
        return "unknown_event_type"
    reason = _type_reason(rec, fmt) or _range_reason(rec)
    if reason:
        return reason
    if ts >= HORIZON:
        return "future_timestamp"
    if rec["event_id"] in seen:
        return "duplicate_event_id"
    seen.add(rec["event_id"])
    return None


def _classify_file(path: Path, fmt: str) -> tuple[dict[str, int], list[dict]]:
    seen: set[str] = set()
    counts: dict[str, int] = {}
    valid: list[dict] = []
    for rec in _read_records(path, fmt):
        reason = _classify(rec, seen, fmt)
        if reason is None:
            valid.append(rec)
        else:
            counts[reason] = counts.get(reason, 0) + 1
    return counts, valid


def _expected_reason(kind: str) -> str:
    return {"malformed_json": "malformed_record"}.get(kind, kind)


# ---------------------------------------------------------------------------------------------------


def test_columns_and_types(register):
    t = generate_events(days=2, runs_per_day=5, seed=1, end_date=END, register=register)
    visible = [c for c in t.column_names if not c.startswith("_")]
    assert tuple(visible) == TELEMETRY_FIELDS
    types = {f.name: f.type for f in t.schema}
    assert types["duration_ms"] == pa.int64() and types["severity"] == pa.int64() and types["attempt"] == pa.int64()
    assert types["cost_cents"] == pa.float64() and types["confidence"] == pa.float64()
    for f in ("event_id", "workflow_id", "run_id", "event_type", "event_ts", "region", "attributes"):
        assert types[f] == pa.string()


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_seed_same_bytes(tmp_path, register, fmt):
    kwargs = dict(days=3, runs_per_day=6, seed=42, end_date=END, register=register, fmt=fmt, defect_rate=0.01)
    a = _write(tmp_path, generate_events(**kwargs), fmt, "a")
    b = _write(tmp_path, generate_events(**kwargs), fmt, "b")
    assert a.read_bytes() == b.read_bytes()
    kwargs["seed"] = 43
    c = _write(tmp_path, generate_events(**kwargs), fmt, "c")
    assert c.read_bytes() != a.read_bytes()


def test_base_events_do_not_depend_on_format_or_defect_rate(register):
    kw = dict(days=3, runs_per_day=6, seed=5, end_date=END, register=register)
    clean = generate_events(**kw, defect_rate=0.0).drop_columns([RAW_COLUMN])
    dirty = generate_events(**kw, defect_rate=0.02, fmt="csv")
    ids = set(dirty.column("event_id").to_pylist())
    assert set(clean.column("event_id").to_pylist()) <= ids


def test_every_event_type_and_exception_class_appears(moderate, register):
    types = set(moderate.column("event_type").to_pylist())
    assert types == set(EVENT_TYPES)
    raised = moderate.filter(pc.equal(moderate.column("event_type"), "exception_raised"))
    classes = set(raised.column("exception_class").to_pylist())
    assert classes == {c.code for c in register.exceptions.classes}
    workflows = set(moderate.column("workflow_id").to_pylist())
    assert workflows == set(register.workflow_ids) | {LEGACY_WORKFLOW_ID}
    legacy_share = sum(1 for w in moderate.column("workflow_id").to_pylist() if w == LEGACY_WORKFLOW_ID) / len(moderate)
    assert 0.002 < legacy_share < 0.01


def test_exception_ids_unique_per_raise_and_regions_from_register(moderate, register):
    rows = moderate.select(["workflow_id", "event_type", "exception_id", "region"]).to_pylist()
    raised = [r["exception_id"] for r in rows if r["event_type"] == "exception_raised"]
    assert len(raised) == len(set(raised)) and all(raised)
    allowed = {o.workflow_id: set(o.regions) for o in register.owners}
    for r in rows:
        if r["workflow_id"] in allowed:
            assert r["region"] in allowed[r["workflow_id"]]


def test_cycle_time_p90_near_slo_some_above_some_below(moderate, register):
    con = duckdb.connect()
    con.register("t", moderate)
    res = dict(con.execute("""
        with r as (
            select workflow_id, run_id,
                   min(try_cast(event_ts as timestamptz)) filter (where event_type = 'run_started') s,
                   min(try_cast(event_ts as timestamptz)) filter (where event_type = 'run_completed') c
            from t group by all)
        select workflow_id, quantile_cont(epoch(c - s) / 3600, 0.9) from r where c is not null group by 1
    """).fetchall())
    ratios = {o.workflow_id: res[o.workflow_id] / o.sla.cycle_time_p90_hours for o in register.owners}
    assert all(0.6 < r < 1.6 for r in ratios.values()), ratios
    assert any(r > 1.0 for r in ratios.values()) and any(r < 1.0 for r in ratios.values()), ratios


@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_output_satisfies_contract(tmp_path, register, fmt):
    t = generate_events(days=4, runs_per_day=8, seed=3, end_date=END, register=register, defect_rate=0.0, fmt=fmt)
    path = _write(tmp_path, t, fmt)
    counts, valid = _classify_file(path, fmt)
    assert counts == {}
    assert len(valid) == t.num_rows
    # duckdb agrees: required fields present, known event types, every timestamp parses, all before end_date
    con = duckdb.connect()
    if fmt == "jsonl":
        rel = f"read_json('{path}', format='newline_delimited', columns={{event_id: 'varchar', event_type: 'varchar', event_ts: 'varchar', workflow_id: 'varchar', run_id: 'varchar', region: 'varchar'}})"
    elif fmt == "csv":
        rel = f"read_csv('{path}', all_varchar=true, header=true)"
    else:
        rel = f"read_parquet('{path}')"
    types = ", ".join(f"'{e}'" for e in EVENT_TYPES)
    row = con.execute(f"""
        select count(*),
               count(*) filter (where try_cast(event_ts as timestamptz) is null),
               count(*) filter (where event_type not in ({types})),
               count(*) filter (where event_id is null or workflow_id is null or run_id is null or region is null),
               count(*) filter (where try_cast(event_ts as timestamptz) >= '2026-11-21 00:00:00+00'::timestamptz),
               count(distinct event_id)
        from {rel}
    """).fetchone()
    assert row == (t.num_rows, 0, 0, 0, 0, t.num_rows)


@pytest.mark.parametrize("fmt", FORMATS)
def test_defects_cover_every_kind(tmp_path, register, fmt):
    t = generate_events(days=4, runs_per_day=8, seed=9, end_date=END, register=register, defect_rate=0.02, fmt=fmt)
    base = generate_events(days=4, runs_per_day=8, seed=9, end_date=END, register=register, defect_rate=0.0, fmt=fmt)
    path = _write(tmp_path, t, fmt)
    counts, valid = _classify_file(path, fmt)
    expected = {_expected_reason(k) for k in DEFECT_KINDS[fmt]}
    assert set(counts) == expected, (set(counts) ^ expected)
    # the defects are extra rows: every base event still arrives valid, exactly once
    assert sorted(r["event_id"] for r in valid) == sorted(base.column("event_id").to_pylist())
    assert sum(counts.values()) == pytest.approx(0.02 * base.num_rows, rel=0.1, abs=len(expected))
    if fmt == "parquet":
        assert "invalid_type_number" not in counts and "malformed_record" not in counts


def test_no_events_at_or_after_end_date_except_future_defects(register):
    t = generate_events(days=5, runs_per_day=10, seed=4, end_date=END, register=register, defect_rate=0.02)
    rows = t.select(["event_ts", RAW_COLUMN]).to_pylist()
    late = [r["event_ts"] for r in rows if (ts := _parse_ts(r["event_ts"])) is not None and ts >= HORIZON]
    assert late and all(v.startswith("2099") for v in late)
    start = datetime(2026, 11, 16, tzinfo=UTC)
    assert all(ts >= start for r in rows if (ts := _parse_ts(r["event_ts"])) is not None)


def test_timestamp_styles_and_time_order(moderate):
    ts = moderate.column("event_ts").to_pylist()
    z = sum(v.endswith("Z") for v in ts)
    offset = sum(v[-6] in "+-" for v in ts)
    naive = len(ts) - z - offset
    assert z / len(ts) > 0.9 and offset > 0 and naive > 0
    parsed = [_parse_ts(v) for v in ts]
    in_order = sum(a <= b for a, b in itertools.pairwise(parsed))
    assert 0.9 < in_order / (len(parsed) - 1) < 1.0  # mostly ordered, a few late arrivals


def test_run_lifecycle(moderate):
    by_run: dict[str, list[tuple[datetime, str]]] = {}
    for r in moderate.select(["run_id", "event_type", "event_ts"]).to_pylist():
        by_run.setdefault(r["run_id"], []).append((_parse_ts(r["event_ts"]), r["event_type"]))
    in_flight = 0
    for events in by_run.values():
        events.sort(key=lambda e: e[0])
        kinds = [k for _, k in events]
        assert kinds[0] == "run_started"
        assert kinds.count("run_started") == 1
        assert kinds.count("run_completed") + kinds.count("run_failed") <= 1
        if "run_compensated" in kinds:
            assert "run_failed" in kinds and kinds.index("run_failed") < kinds.index("run_compensated")
        if "approval_rejected" in kinds:
            assert "run_failed" in kinds and "run_completed" not in kinds
        if not set(kinds) & {"run_completed", "run_failed"}:
            in_flight += 1
    assert in_flight > 0


def test_hostile_strings_and_redaction_fields_survive_every_format(tmp_path, register):
    t = generate_events(days=3, runs_per_day=8, seed=8, end_date=END, register=register, defect_rate=0.0)
    stages = {s for s in t.column("stage").to_pylist() if s}
    attrs = [a for a in t.column("attributes").to_pylist() if a]
    assert any("\n" in s for s in stages) and any('"' in s and "," in s for s in stages)
    assert any("drop table x" in s for s in stages)
    assert any("drop table x" in a for a in attrs)
    assert any("customer_email" in a for a in attrs) and any("bank_account" in a for a in attrs)
    for fmt in FORMATS:
        path = _write(tmp_path, t, fmt)
        recs = _read_records(path, fmt)
        assert [r.get("stage") for r in recs] == t.column("stage").to_pylist()
        got = [r.get("attributes") for r in recs]
        if fmt == "jsonl":
            got = [json.dumps(a, ensure_ascii=False, separators=(",", ":")) if a is not None else None for a in got]
        assert got == t.column("attributes").to_pylist()


def test_files_readable_by_duckdb(tmp_path, register):
    con = duckdb.connect()
    for fmt in FORMATS:
        t = generate_events(days=2, runs_per_day=6, seed=2, end_date=END, register=register, fmt=fmt)
        path = _write(tmp_path, t, fmt)
        if fmt == "jsonl":
            sql = f"select count(*) from read_json('{path}', format='newline_delimited', ignore_errors=true)"
            # with ignore_errors duckdb yields a (null) row for each malformed line
            expected = t.num_rows
        elif fmt == "csv":
            sql = f"select count(*) from read_csv('{path}', all_varchar=true, header=true)"
            expected = t.num_rows
        else:
            sql = f"select count(*) from read_parquet('{path}')"
            expected = t.num_rows
        assert con.execute(sql).fetchone()[0] == expected, fmt


def test_attributes_encoding_per_format(tmp_path, register):
    t = generate_events(days=2, runs_per_day=6, seed=2, end_date=END, register=register, defect_rate=0.0)
    j = _write(tmp_path, t, "jsonl")
    first = json.loads(next(line for line in j.read_text().splitlines() if '"attributes"' in line))
    assert isinstance(first["attributes"], dict)
    assert all(k in TELEMETRY_FIELDS for k in first) and None not in first.values()
    c = _write(tmp_path, t, "csv")
    header = c.read_text().splitlines()[0]
    assert header == ",".join(TELEMETRY_FIELDS)
    p = _write(tmp_path, t, "parquet")
    schema = pq.read_schema(p)
    assert schema.names == list(TELEMETRY_FIELDS)
    assert schema.field("attributes").type == pa.string() and schema.field("duration_ms").type == pa.int64()


def test_raw_rows_are_skipped_for_other_formats(tmp_path, register):
    t = generate_events(days=2, runs_per_day=6, seed=2, end_date=END, register=register, fmt="jsonl", defect_rate=0.02)
    n_raw = sum(1 for r in t.column(RAW_COLUMN).to_pylist() if r is not None)
    assert n_raw > 0
    assert write_events(t, tmp_path / "x.jsonl", "jsonl") == t.num_rows
    assert write_events(t, tmp_path / "x.parquet", "parquet") == t.num_rows - n_raw
    assert write_events(t, tmp_path / "x.csv", "csv") == t.num_rows - n_raw


def test_minimal_log(tmp_path):
    t = generate_minimal_log(days=5, cases_per_day=20, seed=1, end_date=END)
    assert t.column_names[:4] == ["case_id", "event_name", "timestamp", "actor"]  # every case step has an actor
    assert {"channel", "location", "amount", "reason_code"} <= set(t.column_names)
    rows = t.to_pylist()
    assert rows and all(all(r[f] for f in MINIMAL_REQUIRED_FIELDS) for r in rows)
    names = {r["event_name"] for r in rows}
    assert {"order_received", "payment_captured", "picked", "packed", "label_printed", "shipped"} <= names
    assert all(_parse_ts(r["timestamp"]) < HORIZON for r in rows)
    per_case: dict[str, list[str]] = {}
    for r in rows:
        per_case.setdefault(r["case_id"], []).append(r["event_name"])
    assert any(len(v) != len(set(v)) for v in per_case.values())  # loops / rework exist
    again = generate_minimal_log(days=5, cases_per_day=20, seed=1, end_date=END)
    assert again.equals(t)
    for fmt in FORMATS:
        path = tmp_path / f"minimal.{fmt}"
        assert write_events(t, path, fmt) == t.num_rows
    con = duckdb.connect()
    assert con.execute(f"select count(*) from read_csv('{tmp_path / 'minimal.csv'}')").fetchone()[0] == t.num_rows


def test_argument_validation(register):
    with pytest.raises(ValueError):
        generate_events(days=1, runs_per_day=1, seed=1, end_date=END, register=register, fmt="xml")
    with pytest.raises(ValueError):
        write_events(pa.table({"a": [1]}), Path("/tmp/never-written.xml"), "xml")
