"""Hostile input and faults at landing (issue 19): one bad row quarantines that row, never the file;
refused files get one readable line; paths are printed inert; a file that changes while it lands
keeps nothing; the ledger says who landed each file and fingerprints what it loaded, and dbt stops
the marts when raw rows were changed behind the ledger's back."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.lib.contract import LOADED_ROW_FINGERPRINT_SQL, REASON_CODES
from orchestration.lib.dbt import dbt_executable
from orchestration.lib.landing import LandingError, discover_landing_files, land_file, land_paths
from orchestration.lib.landing import load as load_module
from orchestration.lib.landing.common import printable
from orchestration.lib.register import land_register
from orchestration.lib.warehouse import connect
from orchestration.settings import REPO_ROOT

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
    return e


def write_lines(path: Path, lines: list[str | dict], *, newline: str = "\n") -> Path:
    path.write_bytes(
        newline.join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode("utf-8") + b"\n"
    )
    return path


def land(con, path, register, **kw):
    return land_file(con, path, register=register, salt=SALT, now=NOW, **kw)


def quarantined(con) -> list[tuple]:
    return con.execute(
        "select source_row_number, reason_code, reason_detail from raw.quarantine order by source_row_number"
    ).fetchall()


# ------------------------------------------------------------------------------------------------
# Landing: one bad row quarantines that row, never the file
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw_value", "detail"),
    [
        ("severity", "3000000000", "severity 3000000000 is outside the integer range"),
        ("attempt", "3e9", "is outside the integer range"),
        ("duration_ms", "1e19", "is outside the bigint range"),
        ("duration_ms", "1e300", "is outside the bigint range"),
        ("duration_ms", "-1e19", "is outside the bigint range"),
    ],
)
def test_out_of_range_number_quarantines_the_row(tmp_path, con, register, field, raw_value, detail):
    bad = json.dumps(event(2))[:-1] + f', "{field}": {raw_value}}}'
    path = write_lines(tmp_path / "f.jsonl", [event(1), bad, event(3)])
    result = land(con, path, register)
    assert (result.rows_loaded, result.quarantine_reasons) == (2, {"out_of_range": 1})
    [(row, reason, text)] = quarantined(con)
    assert (row, reason) == (2, "out_of_range") and detail in text


def test_out_of_range_in_the_landing_folder_is_not_retried_forever(tmp_path, con, register):
    """Dagster's folder batch: the file lands (bad row quarantined); nothing refused or deferred."""
    path = write_lines(tmp_path / "f.jsonl", [event(1), event(2, severity=3000000000)])
    batch = land_paths(con, [path], register=register, salt=SALT, remember_refusals=True, now=NOW)
    assert (len(batch.landed), batch.refused, batch.deferred) == (1, [], [])


def test_a_duckdb_content_error_is_a_refusal_not_transient(tmp_path, con, register, monkeypatch):
    """A conversion error is about the file's content: refused (remembered by the landing folder),
    never marked transient, so Dagster does not retry it on every run forever."""
    path = write_lines(tmp_path / "f.jsonl", [event(1)])

    def boom(*args, **kwargs):
        raise duckdb.ConversionException("Conversion Error: Type DOUBLE with value 3e9 can't be cast\n\nLINE 5: select")

    monkeypatch.setattr(load_module.validation, "_validate_and_load", boom)
    with pytest.raises(LandingError) as info:
        land(con, path, register)
    assert not info.value.transient
    assert "LINE 5" not in str(info.value) and "\n" not in str(info.value)
    batch = land_paths(con, [path], register=register, salt=SALT, remember_refusals=True, now=NOW)
    assert len(batch.refused) == 1
    assert con.execute("select count(*) from raw.refused_files").fetchone()[0] == 1


def test_a_warehouse_error_stays_transient(tmp_path, con, register, monkeypatch):
    path = write_lines(tmp_path / "f.jsonl", [event(1)])

    def disk_full(*args, **kwargs):
        raise duckdb.IOException("IO Error: No space left on device")

    monkeypatch.setattr(load_module.validation, "_validate_and_load", disk_full)
    with pytest.raises(LandingError) as info:
        land(con, path, register)
    assert info.value.transient


def test_raw_carriage_return_quarantines_only_that_line(tmp_path, con, register):
    """6,000 valid rows and one line with a raw CR inside a string: the line is malformed_record, the
    rest loads with the right line numbers; a raw CR between JSON tokens is whitespace and loads."""
    lines: list[str | dict] = [event(i) for i in range(3000)]
    lines.append(json.dumps(event("cr", status="a\rb")).replace("\\r", "\r"))  # raw CR inside a string
    lines.append(json.dumps(event("ws"))[:-1] + ',\r"stage": "x"}')  # raw CR as JSON whitespace
    lines += [event(i) for i in range(3000, 6000)]
    path = write_lines(tmp_path / "cr.jsonl", lines)
    result = land(con, path, register)
    assert (result.rows_read, result.rows_loaded, result.quarantine_reasons) == (6002, 6001, {"malformed_record": 1})
    [(row, reason, detail)] = quarantined(con)
    assert (row, reason) == (3001, "malformed_record") and "carriage return" in detail
    assert con.execute("select source_row_number from raw.workflow_events where event_id = 'ews'").fetchone() == (3002,)
    assert con.execute("select source_row_number from raw.workflow_events where event_id = 'e5999'").fetchone() == (6002,)


def test_raw_carriage_return_in_a_crlf_file_with_mixed_line_ends(tmp_path, con, register):
    """CRLF line ends, one line ending LF only (the last), one lone CR inside a string."""
    lines = [event(1), json.dumps(event(2, status="a\rb")).replace("\\r", "\r"), event(3)]
    path = write_lines(tmp_path / "crlf.jsonl", lines, newline="\r\n")
    result = land(con, path, register)
    assert (result.rows_loaded, result.quarantine_reasons) == (2, {"malformed_record": 1})
    assert [r[0] for r in quarantined(con)] == [2]


def test_invalid_utf8_in_a_csv_data_record_quarantines_that_record(tmp_path, con, register):
    header = b"event_id,workflow_id,run_id,event_type,event_ts,region\n"
    good = b"e%d,fulfillment_v2,r1,run_started,2026-11-20T10:00:00Z,us-east-1\n"
    path = tmp_path / "u.csv"
    path.write_bytes(header + good % 1 + b"e2,fulfillment_v2\xff,r1,run_started,2026-11-20T10:00:00Z,us-east-1\n" + good % 3)
    result = land(con, path, register)
    assert (result.rows_loaded, result.quarantine_reasons) == (2, {"malformed_record": 1})
    [(row, _, detail)] = quarantined(con)
    assert row == 3 and "not UTF-8" in detail


@pytest.mark.parametrize("crlf", [False, True])
def test_a_csv_with_a_raw_cr_in_a_field_or_mixed_line_ends_lands(tmp_path, con, register, crlf):
    header = b"event_id,workflow_id,run_id,event_type,event_ts,region,status\n"
    row = b"e%d,fulfillment_v2,r1,run_started,2026-11-20T10:00:00Z,us-east-1,%s\n"
    body = header + row % (1, b"ok") + row % (2, b"a\rb") + row % (3, b'"c\rd"')
    if crlf:  # CRLF line ends, the last one LF only
        body = header.replace(b"\n", b"\r\n") + (row % (1, b"ok")).replace(b"\n", b"\r\n") + row % (2, b"ok")
    path = tmp_path / "cr.csv"
    path.write_bytes(body)
    result = land(con, path, register)
    assert (result.rows_read, result.rows_quarantined) == (result.rows_loaded, 0) and result.rows_loaded >= 2
    if not crlf:
        assert con.execute("select status from raw.workflow_events order by event_id").fetchall() == [
            ("ok",), ("a\rb",), ("c\rd",)]
    assert con.execute("select max(source_row_number) from raw.workflow_events").fetchone()[0] == result.rows_read + 1


def test_a_line_over_the_limit_is_quarantined_not_the_file(tmp_path, con, register):
    """The docs and the code agree: a line longer than 16 MiB is malformed_record; the rest lands."""
    path = write_lines(tmp_path / "long.jsonl", [event(1), "x" * (17 << 20), event(3)])
    result = land(con, path, register)
    assert (result.rows_loaded, result.quarantine_reasons) == (2, {"malformed_record": 1})
    [(row, _, detail)] = quarantined(con)
    assert row == 2 and "longer than the 16 MiB limit" in detail
    assert "longer than 16 MiB" in (REPO_ROOT / "docs" / "event-contract.md").read_text()


# ------------------------------------------------------------------------------------------------
# Refused files: one readable line
# ------------------------------------------------------------------------------------------------


def _truncated_parquet(path: Path) -> Path:
    pq.write_table(pa.Table.from_pylist([event(i) for i in range(50)]), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        ("garbage.jsonl", lambda p: p.write_bytes(bytes(range(256)) * 40), "is it JSON Lines?"),
        ("truncated.parquet", _truncated_parquet, "is not a Parquet file, or is truncated"),
    ],
)
def test_refused_file_is_one_error_line_naming_it(tmp_path, capsys, monkeypatch, name, make, says):
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "w.duckdb"))
    path = tmp_path / name
    make(path)
    assert main(["ingest", str(path)]) == 1
    out = capsys.readouterr()
    lines = [ln for ln in (out.out + out.err).splitlines() if str(path) in ln]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0]
    for noise in ("LINE 1", "select", "Possible fixes", "state machine", "Traceback"):
        assert noise not in out.out + out.err


# ------------------------------------------------------------------------------------------------
# Empty files: one rule for every format
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.parquet"])
def test_a_zero_byte_file_lands_with_zero_rows(tmp_path, con, register, name):
    path = tmp_path / name
    path.write_bytes(b"")
    result = land(con, path, register)
    assert (result.status, result.rows_read) == ("loaded", 0)
    assert con.execute("select rows_read, file_bytes from raw.load_ledger").fetchall() == [(0, 0)]


def test_header_only_csv_and_zero_row_parquet_land_with_zero_rows(tmp_path, con, register):
    csv_path = tmp_path / "h.csv"
    csv_path.write_text("event_id,workflow_id,run_id,event_type,event_ts,region\n")
    pq_path = tmp_path / "z.parquet"
    pq.write_table(pa.Table.from_pylist([event(1)]).slice(0, 0), pq_path)
    assert [land(con, p, register).rows_read for p in (csv_path, pq_path)] == [0, 0]
    assert con.execute("select count(*) from raw.load_ledger").fetchone()[0] == 2


# ------------------------------------------------------------------------------------------------
# Time bounds at landing: expired
# ------------------------------------------------------------------------------------------------


def test_year_one_is_expired_with_the_bound_in_the_detail(tmp_path, con, register):
    path = write_lines(tmp_path / "old.jsonl", [event(1), event(2, event_ts="0001-01-01T00:00:00Z"),
                                                  event(3, region="mars-1", event_ts="2025-10-01T00:00:00Z")])
    result = land(con, path, register)
    assert (result.rows_loaded, result.quarantine_reasons) == (1, {"expired": 2})
    rows = quarantined(con)
    assert "0001-01-01T00:00:00Z is before 2025-11-21T12:00:00Z, the retention of region us-east-1" in rows[0][2]
    # a region the register does not list: telemetry.retention_days (400)
    assert "is before 2025-10-17T12:00:00Z, the register's telemetry.retention_days" in rows[1][2]
    assert "expired" in REASON_CODES


def test_earliest_event_date_in_the_register(tmp_path, con, register):
    telemetry = register.telemetry.model_copy(update={"earliest_event_date": date(2026, 11, 20)})
    strict = register.model_copy(update={"telemetry": telemetry})
    path = write_lines(tmp_path / "f.jsonl", [event(1), event(2, event_ts="2026-11-19T23:59:59Z")])
    result = land_file(con, path, register=strict, salt=SALT, now=NOW)
    assert result.quarantine_reasons == {"expired": 1}
    assert "before 2026-11-20T00:00:00Z, the register's telemetry.earliest_event_date" in quarantined(con)[0][2]


# ------------------------------------------------------------------------------------------------
# Folders, paths and files
# ------------------------------------------------------------------------------------------------


def test_symlinks_out_of_the_landing_folder_are_skipped_and_reported(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("a,b\n")
    folder = tmp_path / "landing"
    (folder / "sub").mkdir(parents=True)
    write_lines(folder / "sub" / "ok.jsonl", [event(1)])
    os.symlink("/etc/passwd", folder / "passwd.csv")
    os.symlink(outside, folder / "linked_dir")
    os.symlink(folder / "sub" / "ok.jsonl", folder / "inside_link.jsonl")  # stays inside: landable
    skipped: list[str] = []
    found = discover_landing_files(folder, skipped=skipped)
    assert [p.relative_to(folder).as_posix() for p in found] == ["inside_link.jsonl", "sub/ok.jsonl"]
    assert len(skipped) == 2 and all("symbolic link out of the landing folder" in s for s in skipped)
    assert any("passwd.csv" in s for s in skipped)


def test_control_characters_in_paths_are_escaped(tmp_path, con, register, monkeypatch, capsys):
    assert printable("a\nb\x1b[2Jc\td") == "a\\nb\\x1b[2Jc\\td"
    folder = tmp_path / "landing"
    folder.mkdir()
    forged = folder / "x.jsonl\nINFO forged line.jsonl"
    write_lines(forged, [event(1)])
    bad = folder / "bad\r\n.parquet"
    bad.write_bytes(b"not parquet")
    result = land(con, forged, register)
    assert "\n" not in result.summary and "\\n" in result.summary
    with pytest.raises(LandingError) as info:
        land(con, bad, register)
    assert "\n" not in str(info.value) and "\r" not in str(info.value)
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "cli.duckdb"))
    main(["ingest", str(folder)])
    out = capsys.readouterr()
    assert not any(line.startswith("INFO forged") for line in (out.out + out.err).splitlines())


def test_a_file_that_changes_while_it_lands_keeps_nothing(tmp_path, con, register, monkeypatch):
    path = write_lines(tmp_path / "grow.jsonl", [event(1), event(2)])
    real_read = load_module._read_jsonl

    def read_then_append(con_, p, **kw):
        out = real_read(con_, p, **kw)
        with open(path, "a") as fh:  # a writer appends after the file was hashed and read
            fh.write(json.dumps(event(3)) + "\n")
        return out

    monkeypatch.setattr(load_module, "_read_jsonl", read_then_append)
    with pytest.raises(LandingError) as info:
        land(con, path, register)
    assert info.value.transient and "changed while landing" in str(info.value)
    assert con.execute("select count(*) from raw.load_ledger").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.workflow_events").fetchone()[0] == 0
    # in the landing folder it is "not landed yet", not a refusal; once still, it lands whole
    batch = land_paths(con, [path], register=register, salt=SALT, remember_refusals=True, now=NOW)
    assert (len(batch.deferred), batch.refused) == (1, [])
    monkeypatch.setattr(load_module, "_read_jsonl", real_read)
    result = land(con, path, register)
    assert result.rows_read == 4  # e1, e2 and e3 appended twice (by the two interrupted tries)
    assert result.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------
# Tampering: who landed, and a fingerprint dbt recomputes
# ------------------------------------------------------------------------------------------------


def test_ledger_records_who_landed_and_a_fingerprint(tmp_path, con, register):
    path = write_lines(tmp_path / "f.jsonl", [event(1, cost_cents=12.5), event(2, attributes={"k": 1})])
    land(con, path, register, landing_run_id="run-123")
    who = con.execute(
        "select landed_by_user, landed_on_host, landed_by_pid, landing_run_id, first_event_ts from raw.load_ledger"
    ).fetchone()
    assert who[0] and who[1] and who[2] == os.getpid() and who[3] == "run-123"
    assert who[4] == datetime(2026, 11, 20, 10, 0)
    recomputed = con.execute(f"select sum({LOADED_ROW_FINGERPRINT_SQL}) from raw.workflow_events").fetchone()[0]
    assert con.execute("select loaded_fingerprint from raw.load_ledger").fetchone()[0] == recomputed
    con.execute("update raw.workflow_events set cost_cents = cost_cents * 1000")
    tampered = con.execute(f"select sum({LOADED_ROW_FINGERPRINT_SQL}) from raw.workflow_events").fetchone()[0]
    assert tampered != recomputed


def test_an_old_ledger_is_migrated(tmp_path, register):
    db = tmp_path / "old.duckdb"
    old = duckdb.connect(str(db))
    old.execute("create schema raw")
    old.execute(
        """create table raw.load_ledger (load_id varchar not null primary key, file_sha256 varchar not null unique,
        file_path varchar not null, file_format varchar not null, log_format varchar not null,
        file_bytes bigint not null, rows_read bigint not null, rows_loaded bigint not null,
        rows_quarantined bigint not null, loaded_at timestamp not null,
        check (rows_read = rows_loaded + rows_quarantined))"""
    )
    old.execute("insert into raw.load_ledger values ('l0', 's0', 'p', 'jsonl', 'telemetry', 1, 0, 0, 0, now())")
    old.close()
    con = connect(db)
    try:
        path = write_lines(tmp_path / "f.jsonl", [event(1)])
        land(con, path, register)
        rows = con.execute(
            "select load_id, landed_by_pid, loaded_fingerprint is not null from raw.load_ledger order by load_id <> 'l0'"
        ).fetchall()
        assert rows[0] == ("l0", None, False) and rows[1][1] == os.getpid() and rows[1][2]
    finally:
        con.close()


def _dbt(args: list[str], tmp_path: Path, db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMMAND_CENTER_DUCKDB": str(db), "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
           "COMMAND_CENTER_DBT_TARGET": "duckdb"}
    return subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(REPO_ROOT),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        check=False, env=env, capture_output=True, text=True, cwd=REPO_ROOT,
    )


def _results(tmp_path: Path) -> dict[str, str]:
    data = json.loads((tmp_path / "target" / "run_results.json").read_text())
    return {r["unique_id"].split(".")[2]: r["status"] for r in data["results"]}


@pytest.mark.parametrize(
    "tamper",
    [
        None,  # untouched: the gate passes and the models build
        "update raw.workflow_events set cost_cents = cost_cents * 1000 where event_id in ('e1', 'e2')",
        # delete a run's events and lower the ledger's counts to match
        "delete from raw.workflow_events where run_id = 'r2'; "
        "update raw.load_ledger set rows_loaded = rows_loaded - 2, rows_read = rows_read - 2",
        "delete from raw.workflow_events where run_id = 'r2'",
    ],
)
def test_tampering_fails_the_build_and_stops_the_marts(tmp_path, register, tamper):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    events = []
    for r in range(1, 4):
        events += [event(f"{r}a", run_id=f"r{r}", event_type="run_started", cost_cents=10.0, event_ts="2026-11-20T10:00:00Z"),
                   event(f"{r}b", run_id=f"r{r}", event_type="run_completed", cost_cents=5.0, event_ts="2026-11-20T11:00:00Z")]
    events[0]["event_id"], events[1]["event_id"] = "e1", "e2"
    land_register(con, register, source_path="command_center.yml", sha256="test")
    land(con, write_lines(tmp_path / "f.jsonl", events), register)
    if tamper:
        con.execute(tamper)
    con.close()
    select = ["--select", "+int_load_ledger_mismatches", "+int_log_completeness_violations",
              "assert_load_ledger_matches_loaded_events"]
    proc = _dbt(["build", *select, "--indirect-selection", "cautious"], tmp_path, db)
    results = _results(tmp_path)
    if tamper is None:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert results["assert_load_ledger_matches_loaded_events"] == "pass"
        assert results["int_log_completeness_violations"] == "success"
        return
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert results["assert_load_ledger_matches_loaded_events"] == "fail"
    assert results["int_log_completeness_violations"] == "skipped"


# ------------------------------------------------------------------------------------------------
# Many small files: landed in groups, the same as one by one
# ------------------------------------------------------------------------------------------------


def _mixed_folder(folder: Path) -> list[Path]:
    folder.mkdir()
    files = [
        write_lines(folder / "a.jsonl", [event(1), event(2), event(2, stage="again")]),  # repeat in the file
        write_lines(folder / "b.jsonl", [event(2, stage="late"), event(3), event(3), "not json"]),  # repeat of a's
        write_lines(folder / "c.jsonl", [event(4, severity=3000000000), event(5, event_ts="0001-01-01T00:00:00Z")]),
        write_lines(folder / "d.jsonl", [json.dumps(event(6, status="x\ry")).replace("\\r", "\r"), event(11)]),  # a CR
        write_lines(folder / "e.jsonl", [event(7)]),
        write_lines(folder / "f.jsonl", [event(1), event(8)]),  # e1 loaded by a
        folder / "g.jsonl",  # empty: alone
        write_lines(folder / "h.jsonl", ["[1, 2]", "3"]),  # no JSON object: refused, so its group goes one by one
        write_lines(folder / "i.jsonl", [event(9)]),
        write_lines(folder / "j.jsonl", [event(9)]),  # the same bytes as i: already loaded
        write_lines(folder / "k.jsonl", [event(10, attributes={"customer_email": "x@example.com"})]),
    ]
    files[6].write_bytes(b"")
    return files


def _state(con) -> dict:
    return {
        "events": con.execute(
            "select event_id, source_file, source_row_number, severity, stage from raw.workflow_events order by all"
        ).fetchall(),
        "quarantine": con.execute(
            "select source_file, source_row_number, reason_code, reason_detail, event_id from raw.quarantine order by all"
        ).fetchall(),
        "ledger": con.execute(
            "select file_path, file_sha256, file_bytes, rows_read, rows_loaded, rows_quarantined, first_event_ts, "
            "loaded_fingerprint is not null from raw.load_ledger order by all"
        ).fetchall(),
    }


def test_small_files_in_groups_land_as_one_by_one(tmp_path, register):
    files = _mixed_folder(tmp_path / "landing")
    outcome = {}
    for grouped in (False, True):
        db = connect(tmp_path / f"w{grouped}.duckdb")
        batch = land_paths(db, files, register=register, salt=SALT, now=NOW, small_file_groups=grouped)
        outcome[grouped] = (
            [(Path(r.file_path).name, r.status, r.rows_read, r.rows_loaded, r.quarantine_reasons) for r in batch.results],
            sorted(Path(e.path).name for e in batch.refused),
            _state(db),
        )
        # fingerprints are recomputed exactly from the stored rows
        assert db.execute(
            f"""select count(*) from raw.load_ledger l where loaded_fingerprint <> coalesce((
                    select sum({LOADED_ROW_FINGERPRINT_SQL}) from raw.workflow_events e where e.load_id = l.load_id), 0)"""
        ).fetchone()[0] == 0
        db.close()
    assert outcome[True] == outcome[False]
    assert outcome[True][1] == ["h.jsonl"]


def test_many_files_benchmark_smoke():
    from orchestration.bench.many_files import run

    result = run(200)
    assert (result["landed"], result["refused"], result["ledger_rows"]) == (200, 0, 200)
    assert result["seconds"] < 30


def test_a_group_that_fails_keeps_nothing_and_its_files_land_one_by_one(tmp_path, con, register, monkeypatch):
    from orchestration.lib.landing import small_files

    folder = tmp_path / "landing"
    folder.mkdir()
    files = [write_lines(folder / f"{i}.jsonl", [event(i), event(i)]) for i in range(5)]

    def fail(*args, **kwargs):
        raise duckdb.IOException("IO Error: the disk went away mid-group")

    monkeypatch.setattr(small_files, "_file_stats_and_ledger", fail)
    batch = land_paths(con, files, register=register, salt=SALT, now=NOW)
    assert (len(batch.landed), batch.refused) == (5, [])
    assert con.execute("select count(*) from raw.workflow_events where load_id like 'group-%'").fetchone()[0] == 0
    assert con.execute("select count(*), sum(rows_loaded), sum(rows_quarantined) from raw.load_ledger").fetchone() == (5, 5, 5)
