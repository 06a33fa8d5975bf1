"""The typed Parquet path (landing/typed_parquet.py) lands exactly what the general path (Parquet rows
rendered as JSON text, parsed, extracted) lands: the same loaded rows, quarantine rows and reasons,
raw_record text, ledger counts and fingerprint. And the hash-based duplicate check (landing/dedup.py)."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.landing import LandingError, land_file
from orchestration.lib.landing import load as landing_load
from orchestration.lib.warehouse import connect

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SALT = "test-salt"


def _general_path(monkeypatch) -> None:
    """Force the general path: no typed reader, so Parquet goes through readers._read_parquet."""
    monkeypatch.setattr(landing_load, "describe_parquet", lambda con, path, state: None)


def _tricky_table() -> pa.Table:
    n = 12
    ids = [" e1 ", "e2", "e2", "", None, "e6", "e7", "e8", "e9", "e10", "e11", "e" + "x" * 300]
    return pa.table({
        "event_id": pa.array(ids, pa.string()),
        "workflow_id": ["fulfillment_v2"] * n,
        "run_id": ["r1", "r1", "r1", "r1", "r1", "r1\x07", "r1", "r1", "r1", "r1", "r1", "r1"],
        "event_type": ["STAGE_completed", "stage_completed", "stage_completed", "stage_completed", "run_started",
                       "run_started", "exception_raised", "stage_completed", "stage_completed", "heartbeat",
                       "stage_completed", "stage_completed"],
        "event_ts": ["2026-11-20T10:00:00Z", "2026-11-20 12:00:00+02:00", "2026-11-20T10:00:00Z",
                     "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z",
                     "2026-11-20T10:00:00+24:00", "2027-01-01T00:00:00Z", "2026-11-20T10:00:00Z", " 2026-11-20t10:00:00z ",
                     "2026-11-20T10:00:00Z"],
        "region": ["us-east-1"] * n,
        "duration_ms": pa.array([1.5, 2.0, None, 3.0, float("nan"), 1.0, 1.0, 1.0, -4.0, 1.0, 9.3e18, 1.0], pa.float64()),
        "cost_cents": pa.array([1.25, math.inf, None, 0.0, 0.1, None, None, None, None, None, None, None], pa.float64()),
        "severity": pa.array([1, 2, None, None, None, None, 3, None, None, None, None, None], pa.int64()),
        "confidence": pa.array(["0.5", "high", None, None, None, None, "1.5", None, None, None, None, None], pa.string()),
        "owner": ["ops@company.com", "  ", None, None, None, None, None, None, None, None, None, None],
        "attributes": pa.array(
            [{"customer_email": "a@b.com", "k": "v"}, {"customer_email": None, "k": " x "}, None, None, None, None,
             None, None, None, None, {"customer_email": "c@d.com", "k": "w"}, None],
            pa.struct([("customer_email", pa.string()), ("k", pa.string())])),
        "note": ["extra column"] * n,
        "tags": pa.array([["a", "b"]] * n, pa.list_(pa.string())),
    })


def _timestamp_table() -> pa.Table:
    return pa.table({
        "event_id": ["t1", "t2", "t3"],
        "workflow_id": ["fulfillment_v2"] * 3,
        "run_id": ["r9"] * 3,
        "event_type": ["stage_completed"] * 3,
        "event_ts": pa.array([datetime(2026, 11, 20, 10), datetime(2026, 11, 20, 11, 30, 0, 123000), None],
                             pa.timestamp("us")),
        "region": ["eu-west-1", "us-east-1", "us-east-1"],
        "attempt": pa.array([1, 2 ** 40, 3], pa.int64()),
        "attributes": ['{"bank_account": "DE00 1234", "nested": {"customer_email": "x@y.z"}}', '"not an object"', "{}"],
    })


def _numeric_table() -> pa.Table:
    """Numeric columns of every kind: read in their own type (int64, int32, float64) or as text
    (float32, uint64), with values a double cannot hold exactly and values out of range."""
    n = 5
    return pa.table({
        "event_id": [f"n{i}" for i in range(n)],
        "workflow_id": ["fulfillment_v2"] * n,
        "run_id": ["r7"] * n,
        "event_type": ["stage_completed"] * n,
        "event_ts": ["2026-11-20T10:00:00.250Z"] * n,
        "region": ["us-east-1"] * n,
        "duration_ms": pa.array([2 ** 53 + 1, -5, 0, None, 2 ** 62 + 1], pa.int64()),
        "cost_cents": pa.array([0.1, 1.5, float("nan"), None, -0.0], pa.float32()),
        "confidence": pa.array([-0.0, 0.1, 1.0, None, 1e-320], pa.float64()),
        "severity": pa.array([1, 2 ** 31 - 1, -1, None, 3], pa.int32()),
        "attempt": pa.array([1, 2, 3, None, 2 ** 63 + 5], pa.uint64()),
    })


def _generated(tmp_path: Path) -> Path:
    from orchestration.lib.generator import generate_events, write_events

    path = tmp_path / "generated.parquet"
    table = generate_events(days=2, runs_per_day=3, seed=7, end_date=date(2026, 11, 20), defect_rate=0.05, fmt="parquet")
    write_events(table, path, "parquet")
    return path


def _land_all(tmp_path: Path, name: str, files: list[Path], register) -> tuple[list, dict]:
    con = connect(tmp_path / f"{name}.duckdb")
    try:
        results = [land_file(con, f, register=register, salt=SALT, now=NOW) for f in files]
        events = con.execute(
            "select * exclude (load_id) from raw.workflow_events order by source_file, source_row_number").fetchall()
        quarantine = con.execute(
            "select * exclude (load_id) from raw.quarantine order by source_file, source_row_number").fetchall()
        ledger = con.execute(
            "select file_path, rows_read, rows_loaded, rows_quarantined, first_event_ts, loaded_fingerprint, "
            "quarantine_fingerprint from raw.load_ledger order by file_path").fetchall()
    finally:
        con.close()
    summary = [(r.rows_read, r.rows_loaded, r.rows_quarantined, r.quarantine_reasons, r.quarantine_samples) for r in results]
    return summary, {"events": events, "quarantine": quarantine, "ledger": ledger}


def test_typed_parquet_lands_what_the_general_path_lands(tmp_path, register, monkeypatch):
    files = []
    for name, table in (("tricky", _tricky_table()), ("timestamps", _timestamp_table()), ("numeric", _numeric_table())):
        files.append(tmp_path / f"{name}.parquet")
        pq.write_table(table, files[-1])
    files.append(_generated(tmp_path))
    files.append(tmp_path / "again.parquet")  # the tricky rows again: duplicate_event_id against the first file
    pq.write_table(_tricky_table().slice(0, 11).append_column("more", pa.array(["x"] * 11)), files[-1])

    typed_summary, typed = _land_all(tmp_path, "typed", files, register)
    _general_path(monkeypatch)
    general_summary, general = _land_all(tmp_path, "general", files, register)

    assert typed_summary == general_summary
    for table in ("ledger", "events", "quarantine"):
        assert typed[table] == general[table], table
    reasons = {k for s in typed_summary for k in s[3]}
    assert {"duplicate_event_id_in_file", "duplicate_event_id", "invalid_identifier", "invalid_type",
            "missing_required_field", "unparseable_timestamp", "future_timestamp", "out_of_range",
            "negative_value", "confidence_out_of_range", "unknown_event_type"} <= reasons
    # redaction reached the struct column's text and the JSON text column alike
    assert not any("a@b.com" in str(row) or "DE00 1234" in str(row) or "x@y.z" in str(row)
                   for rows in typed.values() for row in rows)


def test_duplicate_check_marks_every_repeat_after_the_first_valid_row(tmp_path, register):
    ids = ["d1", "d2", "d1", "d3", "d1", "d2"]
    table = pa.table({
        "event_id": ids, "workflow_id": ["fulfillment_v2"] * 6, "run_id": ["r"] * 6,
        "event_type": ["stage_completed", "nonsense", "stage_completed", "stage_completed", "stage_completed",
                       "stage_completed"],
        "event_ts": ["2026-11-20T10:00:00Z"] * 6, "region": ["us-east-1"] * 6,
    })
    path = tmp_path / "dups.parquet"
    pq.write_table(table, path)
    con = connect(tmp_path / "w.duckdb")
    try:
        result = land_file(con, path, register=register, salt=SALT, now=NOW)
        rows = con.execute("select source_row_number, reason_code from raw.quarantine order by 1").fetchall()
        loaded = con.execute("select source_row_number from raw.workflow_events order by 1").fetchall()
    finally:
        con.close()
    # row 2 (d2) is unknown_event_type, so row 6 is the first valid d2 and loads
    assert rows == [(2, "unknown_event_type"), (3, "duplicate_event_id_in_file"), (5, "duplicate_event_id_in_file")]
    assert loaded == [(1,), (4,), (6,)]
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == 6


def test_a_damaged_parquet_page_is_refused_like_the_general_path_refuses_it(tmp_path, register):
    path = tmp_path / "damaged.parquet"
    pq.write_table(pa.table({"event_id": [f"e{i}-" + "x" * 40 for i in range(5000)],
                             "workflow_id": ["fulfillment_v2"] * 5000, "run_id": ["r"] * 5000,
                             "event_type": ["stage_completed"] * 5000, "event_ts": ["2026-11-20T10:00:00Z"] * 5000,
                             "region": ["us-east-1"] * 5000}), path, compression="none")
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle:middle + 64] = b"\xff" * 64  # invalid UTF-8 inside the event_id page
    path.write_bytes(bytes(data))
    con = connect(tmp_path / "w.duckdb")
    try:
        with pytest.raises(LandingError, match="cannot be read as Parquet") as info:
            land_file(con, path, register=register, salt=SALT, now=NOW)
        assert not info.value.transient
        assert con.execute("select count(*) from raw.workflow_events").fetchone()[0] == 0
    finally:
        con.close()


def test_duplicates_of_padded_and_plain_rows_match_the_general_path(tmp_path, register, monkeypatch):
    """The typed path keeps only failing (and padded) rows in _cc_checked and finds the duplicates in a
    read of the rows that passed: padded and plain repeats, within the file and of an earlier file, and
    a file with no padded row at all, are quarantined exactly as the general path quarantines them."""
    def table(ids, workflows):
        n = len(ids)
        return pa.table({
            "event_id": ids, "workflow_id": workflows, "run_id": ["r"] * n,
            "event_type": ["stage_completed"] * (n - 1) + ["nonsense"],
            "event_ts": ["2026-11-20T10:00:00Z"] * n, "region": ["us-east-1"] * n,
        })

    files = []
    for name, ids, workflows in (
        ("padded", [" p1", "p1", "p2 ", "p3", " p2", "p3", "p4", "p5", "p4"],
         ["fulfillment_v2", " wf_a", "wf_b", "wf_c ", "wf_d", "wf_e", "wf_f", "wf_g", "wf_h"]),
        ("plain", ["p1", "q1", "q1", "p3", "q2", "p5", "q3"], ["wf_i", "wf_j", "wf_k", "wf_l", "wf_m", "wf_n", "wf_o"]),
        ("padded_again", ["q3 ", "q4", " q4", "q5", "p4"], ["wf_p", "wf_q", " wf_r ", "wf_s", "wf_t"]),
    ):
        files.append(tmp_path / f"{name}.parquet")
        pq.write_table(table(ids, workflows), files[-1])

    typed_summary, typed = _land_all(tmp_path, "typed", files, register)
    _general_path(monkeypatch)
    general_summary, general = _land_all(tmp_path, "general", files, register)

    assert typed_summary == general_summary
    for name in ("ledger", "events", "quarantine"):
        assert typed[name] == general[name], name
    # (file, row, reason, event_id, workflow_id: trimmed) of every quarantined row
    quarantined = {(Path(q[0]).stem, q[1], q[2], q[5], q[6]) for q in typed["quarantine"]}
    assert quarantined == {
        ("padded", 2, "duplicate_event_id_in_file", "p1", "wf_a"), ("padded", 5, "duplicate_event_id_in_file", "p2", "wf_d"),
        ("padded", 6, "duplicate_event_id_in_file", "p3", "wf_e"), ("padded", 9, "unknown_event_type", "p4", "wf_h"),
        ("plain", 1, "duplicate_event_id", "p1", "wf_i"), ("plain", 3, "duplicate_event_id_in_file", "q1", "wf_k"),
        ("plain", 4, "duplicate_event_id", "p3", "wf_l"), ("plain", 6, "duplicate_event_id", "p5", "wf_n"),
        ("plain", 7, "unknown_event_type", "q3", "wf_o"),
        ("padded_again", 3, "duplicate_event_id_in_file", "q4", "wf_r"),
        ("padded_again", 5, "unknown_event_type", "p4", "wf_t"),
    }
