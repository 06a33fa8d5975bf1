"""Landing on a real DuckDB file: every quarantine reason, exactly-once, refusals, conservation, redaction."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.contract import REASON_CODES
from orchestration.lib.landing import LandingError, land_file

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SALT = "test-salt"


def event(i: int | str, **overrides) -> dict:
    e = {
        "event_id": f"e{i}",
        "workflow_id": "fulfillment_v2",
        "run_id": "r1",
        "event_type": "stage_completed",
        "event_ts": "2026-11-20T10:00:00Z",
        "region": "us-east-1",
    }
    e.update(overrides)
    return {k: v for k, v in e.items() if v is not None}


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def land(con, path, register, **kw):
    return land_file(con, path, register=register, salt=SALT, now=NOW, **kw)


def conserved(con) -> None:
    """rows read = rows loaded + rows quarantined, per file, and both tables agree with the ledger."""
    bad = con.execute(
        """select l.file_path, l.rows_read, l.rows_loaded, l.rows_quarantined,
                  (select count(*) from raw.workflow_events e where e.load_id = l.load_id),
                  (select count(*) from raw.quarantine q where q.load_id = l.load_id)
           from raw.load_ledger l
           where l.rows_read <> l.rows_loaded + l.rows_quarantined
              or l.rows_loaded <> (select count(*) from raw.workflow_events e where e.load_id = l.load_id)
              or l.rows_quarantined <> (select count(*) from raw.quarantine q where q.load_id = l.load_id)"""
    ).fetchall()
    assert bad == []


# one row per reason code: (records, expected reason, expected detail fragment)
REASON_CASES = {
    "malformed_record": (['{"event_id": "e1", "workflow_id": '], "invalid JSON"),
    "missing_required_field": ([event(1, region=None)], "region"),
    "invalid_identifier": ([event(1, run_id="r" * 300)], "run_id"),
    "unparseable_timestamp": ([event(1, event_ts="20/11/2026 10:00")], "not ISO 8601"),
    "unknown_event_type": ([event(1, event_type="run_exploded")], "run_exploded"),
    "invalid_type": ([event(1, duration_ms="fast")], "duration_ms is not an integer"),
    "out_of_range": ([event(1, severity=3000000000)], "severity 3000000000 is outside the integer range"),
    "negative_value": ([event(1, cost_cents=-3.5)], "cost_cents is negative"),
    "confidence_out_of_range": ([event(1, confidence=1.01)], "confidence 1.01"),
    "missing_exception_id": ([event(1, event_type="exception_raised", exception_class="VALIDATION")], "without exception_id"),
    "future_timestamp": ([event(1, event_ts="2026-11-22T12:00:01Z")], "more than 24 h after landing"),
    "expired": ([event(1, event_ts="2025-11-21T11:59:59Z")], "is before 2025-11-21T12:00:00Z, the retention of region us-east-1"),
    "duplicate_event_id_in_file": ([event(1), event(1, stage="again")], "repeats an earlier row"),
}


def test_every_reason_code_has_a_case():
    # residency_violation needs a register with a non-EU warehouse: tests/integration/test_residency_retention.py
    assert set(REASON_CASES) | {"duplicate_event_id", "residency_violation"} == set(REASON_CODES)


@pytest.mark.parametrize("reason", sorted(REASON_CASES))
def test_each_reason_is_quarantined_with_row_and_detail(tmp_path, con, register, reason):
    records, detail = REASON_CASES[reason]
    # a good row first, so the bad one is on line 2 (or 3 for the in-file duplicate)
    path = write_jsonl(tmp_path / "f.jsonl", [event("good", run_id="r0"), *records])
    result = land(con, path, register)
    expected_line = len(records) + 1
    rows = con.execute(
        "select source_row_number, reason_code, reason_detail, source_file, raw_record from raw.quarantine"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(expected_line, reason)]
    assert detail in rows[0][2]
    assert rows[0][3] == str(path.resolve())
    assert rows[0][4]  # the raw row is kept
    assert result.rows_read == expected_line and result.quarantine_reasons == {reason: 1}
    conserved(con)


def test_boundaries_are_accepted(tmp_path, con, register):
    """Exactly 24 h ahead, confidence 0 and 1, zero cost, no offset (read as UTC) all load."""
    path = write_jsonl(
        tmp_path / "edge.jsonl",
        [
            event(1, event_ts="2026-11-22T12:00:00Z"),
            event(2, confidence=0),
            event(3, confidence=1, cost_cents=0, duration_ms=0, attempt=0),
            event(4, event_ts="2026-11-20T10:00:00"),
            event(5, event_ts="2026-11-20T12:00:00+02:00"),
            event(6, event_type="  Run_Started "),
        ],
    )
    result = land(con, path, register)
    assert (result.rows_loaded, result.rows_quarantined) == (6, 0)
    ts = dict(con.execute("select event_id, event_ts from raw.workflow_events").fetchall())
    assert ts["e4"] == datetime(2026, 11, 20, 10, 0) == ts["e5"]  # no offset = UTC; +02:00 converted
    assert con.execute("select event_type from raw.workflow_events where event_id = 'e6'").fetchone()[0] == "run_started"


def test_duplicate_against_earlier_load_and_relanding(tmp_path, con, register):
    first = write_jsonl(tmp_path / "a.jsonl", [event(1), event(2)])
    second = write_jsonl(tmp_path / "b.jsonl", [event(2, stage="late copy"), event(3)])
    assert land(con, first, register).rows_loaded == 2
    r2 = land(con, second, register)
    assert (r2.rows_loaded, r2.quarantine_reasons) == (1, {"duplicate_event_id": 1})
    # the same bytes again: nothing changes, and the result says so
    before = con.execute("select (select count(*) from raw.workflow_events), (select count(*) from raw.quarantine), "
                         "(select count(*) from raw.load_ledger)").fetchone()
    again = land(con, first, register)
    assert again.status == "already_loaded" and "already loaded" in again.summary
    copy = tmp_path / "copy_of_a.jsonl"
    copy.write_bytes(first.read_bytes())
    assert land(con, copy, register).status == "already_loaded"  # identity is the content, not the name
    after = con.execute("select (select count(*) from raw.workflow_events), (select count(*) from raw.quarantine), "
                        "(select count(*) from raw.load_ledger)").fetchone()
    assert before == after
    conserved(con)


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("garbage.parquet", b"PAR1 not really parquet", "is not a Parquet file, or is truncated"),
        ("binary.jsonl", b"\x00\x01\x02 not json\n\x03\x04\n", "is it JSON Lines"),
        ("noheader.csv", b"\n\n", "starts with its header line"),
        ("wrongcols.csv", b"a,b\n1,2\n", "missing required column(s) event_id"),
        ("dupcols.csv", b"event_id,event_id\n1,2\n", "more than once"),
        ("events.xml", b"<events/>", "unsupported file extension"),
    ],
)
def test_unreadable_files_are_refused_whole(tmp_path, con, register, name, content, problem):
    good = write_jsonl(tmp_path / "good.jsonl", [event(1), event(2)])
    land(con, good, register)
    before = con.execute("select count(*) from raw.workflow_events").fetchone()[0]
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(LandingError) as info:
        land(con, bad, register)
    assert str(bad) in str(info.value) and problem in str(info.value)
    # nothing of it is kept, earlier loads are untouched, and the connection is still usable
    assert con.execute("select count(*) from raw.workflow_events").fetchone()[0] == before
    assert con.execute("select count(*) from raw.load_ledger").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 0


def test_failure_mid_load_rolls_back(tmp_path, con, register, monkeypatch):
    """One transaction per file: an error after rows were inserted leaves no trace."""
    from orchestration.lib.landing import validation as landing

    path = write_jsonl(tmp_path / "x.jsonl", [event(1), event(2), "not json"])
    original = landing._validate_and_load

    def explode(*args, **kwargs):
        original(*args, **kwargs)  # rows are in raw.* inside the transaction now
        raise duckdb.IOException("disk full (simulated)")

    monkeypatch.setattr(landing, "_validate_and_load", explode)
    with pytest.raises(LandingError, match="disk full"):
        land(con, path, register)
    assert con.execute(
        "select (select count(*) from raw.workflow_events) + (select count(*) from raw.quarantine) "
        "+ (select count(*) from raw.load_ledger)"
    ).fetchone()[0] == 0


def test_csv_and_parquet_land_like_jsonl(tmp_path, con, register):
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(
        "event_id,workflow_id,run_id,event_type,event_ts,region,stage,duration_ms,attributes\n"
        'c1,fulfillment_v2,r1,run_started,2026-11-20T10:00:00Z,us-east-1,"pick, pack","12","{""order_id"": ""o1""}"\n'
        "c2,fulfillment_v2,r1,stage_started,2026-11-20T10:01:00Z,us-east-1\n"
        "c3,fulfillment_v2,r1,run_completed,2026-11-20T11:00:00Z,us-east-1,,,\n"
        "c4,fulfillment_v2,r1,stage_completed,2026-11-20T11:00:00Z,us-east-1,,abc,\n",
        encoding="utf-8",
    )
    r = land(con, csv_path, register)
    assert (r.rows_read, r.rows_loaded) == (4, 2)
    assert r.quarantine_reasons == {"malformed_record": 1, "invalid_type": 1}
    rows = con.execute("select event_id, stage, duration_ms, attributes->>'order_id' from raw.workflow_events order by 1").fetchall()
    assert rows[0] == ("c1", "pick, pack", 12, "o1")
    q = dict(con.execute("select reason_code, source_row_number from raw.quarantine").fetchall())
    assert q == {"malformed_record": 3, "invalid_type": 5}

    pq = tmp_path / "events.parquet"
    duckdb.sql(
        f"""copy (select 'p' || i as event_id, 'inventory_sync_v1' as workflow_id, 'run' || (i // 2) as run_id,
                  case when i % 2 = 0 then 'run_started' else 'run_completed' end as event_type,
                  timestamptz '2026-11-19 10:00:00+00' + to_minutes(i) as event_ts,
                  'eu-west-1' as region, i * 10 as duration_ms, {{'bank_account': 'DE44' || i}} as attributes
                  from range(6) t(i)) to '{pq}' (format parquet)"""
    )
    r = land(con, pq, register)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (6, 6, 0)
    first = con.execute(
        "select event_ts, duration_ms, source_row_number, attributes->>'bank_account' from raw.workflow_events where event_id = 'p0'"
    ).fetchone()
    assert first[:3] == (datetime(2026, 11, 19, 10, 0), 0, 1)
    assert first[3].startswith("sha256:")
    conserved(con)


def test_minimal_event_log_with_column_mapping(tmp_path, con, register):
    path = tmp_path / "cases.csv"
    path.write_text(
        "order_id,activity,ts,actor,channel,amount\n"
        "o1,order_received,2026-11-20T08:00:00Z,web,online,12.5\n"
        "o1,shipped,2026-11-20T12:30:00Z,wms,,\n"
        "o1,shipped,2026-11-20T12:30:00Z,wms,,\n"
        "o2,order_received,2026-11-20T09:00:00Z,,phone,3\n",
        encoding="utf-8",
    )
    r = land(con, path, register, log_format="minimal", workflow="returns_processing_v1",
             column_map={"case_id": "order_id", "event_name": "activity", "timestamp": "ts"})
    # identical rows in one file are two events; a blank actor is unknown, not invalid (issue 18)
    assert (r.rows_loaded, r.quarantine_reasons) == (4, {})
    rows = con.execute(
        """select workflow_id, run_id, event_type, stage, source_event_name, region, actor, attributes, log_format
           from raw.workflow_events order by event_ts, event_id"""
    ).fetchall()
    assert rows[0][:7] == ("returns_processing_v1", "o1", "stage_completed", "order_received", "order_received",
                           "us-east-1", "web")
    assert json.loads(rows[0][7]) == {"channel": "online", "amount": "12.5"}
    assert rows[1][1] == "o2" and rows[1][6] is None
    assert rows[2][7] is None and rows[2][8] == "minimal" and rows[2][:7] == rows[3][:7]
    # re-sending the same events in another file is caught by the derived event_id
    again = tmp_path / "cases_again.csv"
    again.write_text("order_id,activity,ts,actor\no1,shipped,2026-11-20T12:30:00Z,wms\n", encoding="utf-8")
    r2 = land(con, again, register, log_format="minimal", workflow="returns_processing_v1",
              column_map={"case_id": "order_id", "event_name": "activity", "timestamp": "ts"})
    assert r2.quarantine_reasons == {"duplicate_event_id": 1}
    unmapped = tmp_path / "cases_unmapped.csv"
    unmapped.write_text("order_id,activity,ts,actor\no9,shipped,2026-11-20T12:30:00Z,wms\n", encoding="utf-8")
    with pytest.raises(LandingError, match="missing column"):
        land(con, unmapped, register, log_format="minimal", workflow="returns_processing_v1")
    with pytest.raises(LandingError, match="needs --workflow"):
        land(con, unmapped, register, log_format="minimal")
    conserved(con)


def test_unregistered_workflow_is_kept(tmp_path, con, register):
    path = write_jsonl(tmp_path / "u.jsonl", [event(1, workflow_id="shadow_it_v0")])
    assert land(con, path, register).rows_loaded == 1
    assert con.execute("select workflow_id from raw.workflow_events").fetchone() == ("shadow_it_v0",)


def test_hostile_strings_land_intact_or_quarantine(tmp_path, con, register):
    hostile = "Robert'); drop table raw.workflow_events; -- \u202e\u00e9\U0001F600 \"quoted\", comma"
    records = [
        event(1, stage=hostile, attributes={"note": hostile, "nested": {"k": [1, 2]}}),
        event(2, run_id="run\x07bell"),
        event("3\u0000", run_id="nul"),
        "\x1e\x1f record separators \x1e",
        event(4, attributes="not an object"),
        event(5, attributes=[1, 2]),
    ]
    path = write_jsonl(tmp_path / "h.jsonl", records)
    r = land(con, path, register)
    assert r.rows_loaded == 1
    assert r.quarantine_reasons == {"invalid_identifier": 2, "malformed_record": 1, "invalid_type": 2}
    stage, note = con.execute("select stage, attributes->>'note' from raw.workflow_events").fetchone()
    assert stage == hostile and note == hostile
    conserved(con)


def test_invalid_utf8_line_is_quarantined_not_fatal(tmp_path, con, register):
    path = tmp_path / "enc.jsonl"
    path.write_bytes(
        json.dumps(event(1)).encode() + b"\n" + b'{"event_id": "\xff\xfe"}\n' + json.dumps(event(2)).encode() + b"\n"
    )
    r = land(con, path, register)
    assert (r.rows_loaded, r.rows_quarantined) == (2, 1)
    assert con.execute("select source_row_number, reason_code from raw.quarantine").fetchall() == [(2, "malformed_record")]
    assert dict(con.execute("select event_id, source_row_number from raw.workflow_events").fetchall()) == {"e1": 1, "e2": 3}


def _all_text_in_warehouse(con) -> str:
    parts = []
    for schema, table, column in con.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type in ('VARCHAR', 'JSON') and table_schema not in ('information_schema', 'pg_catalog')"""
    ).fetchall():
        parts += [v for (v,) in con.execute(f'select "{column}"::varchar from "{schema}"."{table}"').fetchall() if v]
    return "\n".join(parts)


def test_redacted_fields_are_stored_nowhere_in_clear(tmp_path, con, register):
    email, iban = "jane.doe@example.com", "DE89370400440532013000"
    records = [
        event(1, attributes={"customer_email": email, "bank_account": iban, "order_id": "o1"}),
        event(2, attributes={"customer_email": email}, event_type="bogus"),  # quarantined, parsed
        f'{{"event_id": "e3", "attributes": {{"customer_email": "{email}", "bank_account": "{iban}"}}',  # malformed
        event(4, customer_email=email),  # top-level field
    ]
    path = write_jsonl(tmp_path / "pii.jsonl", records)
    csv_path = tmp_path / "pii.csv"
    csv_path.write_text(
        "event_id,workflow_id,run_id,event_type,event_ts,region,attributes\n"
        f'c1,fulfillment_v2,r1,run_started,2026-11-20T10:00:00Z,us-east-1,"{{""customer_email"": ""{email}""}}"\n'
        f'c2,fulfillment_v2,r1,run_started,2026-11-20T10:00:00Z,us-east-1,"{{""customer_email"": ""{email}""}}",extra\n',
        encoding="utf-8",
    )
    land(con, path, register)
    land(con, csv_path, register)
    text = _all_text_in_warehouse(con)
    assert email not in text and iban not in text
    # loaded rows carry a stable salted hash, so joins on the hashed value still work
    hashes = {h for (h,) in con.execute(
        "select attributes->>'customer_email' from raw.workflow_events where attributes->>'customer_email' is not null"
    ).fetchall()}
    assert len(hashes) == 1 and next(iter(hashes)).startswith("sha256:")
    # unparseable records keep a salted hash and a masked prefix (data_controls.redaction.malformed_records)
    assert con.execute("select count(*) from raw.quarantine where raw_record like '<malformed record:%'").fetchone()[0] == 2
    # a different salt gives a different hash
    other = tmp_path / "pii2.jsonl"
    write_jsonl(other, [event(9, attributes={"customer_email": email})])
    land_file(con, other, register=register, salt="another-salt", now=NOW)
    h2 = con.execute("select attributes->>'customer_email' from raw.workflow_events where event_id = 'e9'").fetchone()[0]
    assert h2 not in hashes


def test_conservation_on_generated_data_with_defects(tmp_path, con, register):
    from datetime import date

    from orchestration.lib.generator import generate_events, write_events

    for fmt in ("jsonl", "csv", "parquet"):
        table = generate_events(days=3, runs_per_day=4, seed=11, end_date=date(2026, 11, 20), defect_rate=0.05,
                                register=register, fmt=fmt)
        path = tmp_path / f"gen.{fmt}"
        written = write_events(table, path, fmt)
        r = land(con, path, register)
        assert r.rows_read == written, fmt
        assert r.rows_quarantined > 0, fmt
    conserved(con)


def test_minimal_log_odd_column_names_and_same_instant_other_spelling(tmp_path, con, register):
    path = tmp_path / "odd.csv"
    path.write_text(
        'case_id,event_name,timestamp,actor,"we""ird",x.y,$a,a/b\n'
        "c1,received,2026-11-20T10:00:00Z,me,1,2,3,4\n"
        "c1,received,2026-11-20T12:00:00+02:00,me,,,,\n",  # the same instant, spelled with an offset
        encoding="utf-8",
    )
    r = land(con, path, register, log_format="minimal", workflow="fulfillment_v2")
    # two rows of one file are two events, even at the same instant (issue 18) ...
    assert (r.rows_loaded, r.quarantine_reasons) == (2, {})
    attributes = con.execute("select attributes from raw.workflow_events order by source_row_number").fetchone()[0]
    assert json.loads(attributes) == {'we"ird': "1", "x.y": "2", "$a": "3", "a/b": "4"}
    # ... while the same instant spelled otherwise in another file is the same event
    other = tmp_path / "odd_again.csv"
    other.write_text("case_id,event_name,timestamp,actor\nc1,received,2026-11-20T11:00:00+01:00,me\n", encoding="utf-8")
    assert land(con, other, register, log_format="minimal", workflow="fulfillment_v2").quarantine_reasons == {
        "duplicate_event_id": 1
    }


def test_byte_order_mark_and_crlf_line_endings(tmp_path, con, register):
    """Files saved by Windows tools: a UTF-8 BOM and CRLF endings are not defects."""
    jsonl = tmp_path / "win.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(event(i)).encode() for i in (1, 2)) + b"\r\n")
    csv_path = tmp_path / "win.csv"
    csv_path.write_bytes(
        b"\xef\xbb\xbfevent_id,workflow_id,run_id,event_type,event_ts,region\r\n"
        b"c1,fulfillment_v2,r1,run_started,2026-11-20T10:00:00Z,us-east-1\r\n"
    )
    assert land(con, jsonl, register).rows_loaded == 2
    assert land(con, csv_path, register).rows_loaded == 1
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
    assert con.execute("select max(length(region)) from raw.workflow_events").fetchone()[0] == len("us-east-1")
