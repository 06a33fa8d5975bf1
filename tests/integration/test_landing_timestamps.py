"""Timestamp rules at landing (orchestration/lib/landing/timestamps.py; issue 19 "Time bounds" and
issue 18 section 2): RFC 3339 lower-case t/z, UTC offsets up to ±14:00 and no further,
--timestamp-format and --timezone, and clear errors for unusable options."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.lib.landing import LandingError, land_file

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _land_ts(con, register, tmp_path: Path, values: list[str], **kw):
    """One telemetry event per value; returns {value: (event_ts or None, reason, detail)}."""
    path = tmp_path / "ts.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"event_id": f"e{i}", "workflow_id": "fulfillment_v2", "run_id": "r1",
                        "event_type": "stage_completed", "event_ts": v, "region": "us-east-1"})
            for i, v in enumerate(values)
        ) + "\n",
        encoding="utf-8",
    )
    result = land_file(con, path, register=register, salt="s", now=NOW, **kw)
    loaded = dict(con.execute("select event_id, event_ts from raw.workflow_events where load_id = ?",
                              [result.load_id]).fetchall())
    quarantined = {r[0]: r[1:] for r in con.execute(
        "select event_id, reason_code, reason_detail from raw.quarantine where load_id = ?", [result.load_id]
    ).fetchall()}
    return {v: (loaded.get(f"e{i}"), *quarantined.get(f"e{i}", (None, None))) for i, v in enumerate(values)}, result


def test_offsets_up_to_14_hours_are_accepted_and_beyond_refused(tmp_path, con, register):
    accepted = {
        "2026-11-20T10:00:00+14:00": datetime(2026, 11, 19, 20, 0),
        "2026-11-20T10:00:00-14:00": datetime(2026, 11, 21, 0, 0),
        "2026-11-20T10:00:00+13:59": datetime(2026, 11, 19, 20, 1),
        "2026-11-20T10:00:00+0530": datetime(2026, 11, 20, 4, 30),
        "2026-11-20T10:00:00-05": datetime(2026, 11, 20, 15, 0),
        "2026-11-20T10:00:00-00:00": datetime(2026, 11, 20, 10, 0),
    }
    refused = ["2026-11-20T10:00:00+24:00", "2026-11-20T10:00:00+14:01", "2026-11-20T10:00:00-23:59",
               "2026-11-20T10:00:00-14:30", "2026-11-20T10:00:00+15", "2026-11-20T10:00:00+05:60"]
    got, result = _land_ts(con, register, tmp_path, [*accepted, *refused])
    for value, instant in accepted.items():
        assert got[value] == (instant, None, None), value
    for value in refused:
        ts, reason, detail = got[value]
        assert (ts, reason) == (None, "unparseable_timestamp"), value
        offset = value[19:]
        assert detail == f"event_ts '{value}' has UTC offset {offset} (accepted: -14:00 to +14:00)"
    assert result.quarantine_reasons == {"unparseable_timestamp": len(refused)}


def test_rfc3339_lower_case_t_and_z(tmp_path, con, register):
    values = ["2026-11-20t10:00:00z", "2026-11-20t10:00:00Z", "2026-11-20T10:00:00z", "2026-11-20t12:00:00+02:00",
              "2026-11-20t10:00:00.5z"]
    got, _ = _land_ts(con, register, tmp_path, values)
    assert [got[v][0] for v in values] == [datetime(2026, 11, 20, 10, 0)] * 4 + [datetime(2026, 11, 20, 10, 0, 0, 500000)]


def test_still_not_timestamps(tmp_path, con, register):
    values = ["2026-11-20", "20/11/2026 10:00", "2026-02-30T10:00:00Z", "2026-11-20x10:00:00Z", "soon"]
    got, _ = _land_ts(con, register, tmp_path, values)
    for v in values:
        assert got[v] == (None, "unparseable_timestamp", f"event_ts '{v}' is not ISO 8601"), v


def test_timestamp_format_and_iso_both_read(tmp_path, con, register):
    values = ["20/11/2026 10:00", "2026-11-20T10:00:00Z", "2026/11/20 10:00"]
    got, _ = _land_ts(con, register, tmp_path, values, timestamp_format="%d/%m/%Y %H:%M")
    assert got[values[0]] == (datetime(2026, 11, 20, 10, 0), None, None)
    assert got[values[1]] == (datetime(2026, 11, 20, 10, 0), None, None)
    assert got[values[2]] == (
        None, "unparseable_timestamp",
        "event_ts '2026/11/20 10:00' matches neither --timestamp-format '%d/%m/%Y %H:%M' nor ISO 8601",
    )


def test_format_with_its_own_offset_ignores_the_timezone(tmp_path, con, register):
    got, _ = _land_ts(con, register, tmp_path, ["20.11.2026 12:00 +0200"], timestamp_format="%d.%m.%Y %H:%M %z",
                      timezone="America/New_York")
    assert got["20.11.2026 12:00 +0200"][0] == datetime(2026, 11, 20, 10, 0)


def test_timezone_reads_values_without_offset_as_local_time(tmp_path, con, register):
    values = ["2026-11-20 10:00:00", "2026-11-20T10:00:00Z", "2026-07-20 10:00:00", "2026-03-29 02:30:00",
              "2026-10-25 02:30:00"]
    got, _ = _land_ts(con, register, tmp_path, values, timezone="Europe/Berlin")
    assert [got[v][0] for v in values] == [
        datetime(2026, 11, 20, 9, 0),  # CET
        datetime(2026, 11, 20, 10, 0),  # an explicit offset wins
        datetime(2026, 7, 20, 8, 0),  # CEST
        datetime(2026, 3, 29, 1, 30),  # the skipped hour: the offset before the change (+01:00)
        datetime(2026, 10, 25, 1, 30),  # the repeated hour: the later, standard-time instant
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "--timezone 'Mars/Olympus' is not a known IANA time zone"),
        ({"timezone": "europe/berlin"}, "did you mean 'Europe/Berlin'?"),
        ({"timestamp_format": "dd-mm-yyyy"}, "has no strptime directive"),
        ({"timestamp_format": "%d-%Q"}, "is not a valid strptime format"),
    ],
)
def test_unusable_options_refuse_with_a_clear_message(tmp_path, con, register, options, message):
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    with pytest.raises(LandingError, match="x.jsonl") as err:
        land_file(con, path, register=register, salt="s", now=NOW, **options)
    assert message in str(err.value)


def test_cli_options_errors_and_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(tmp_path / "cli.duckdb"))
    monkeypatch.setenv("COMMAND_CENTER_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "duckdb")
    log = tmp_path / "cases.csv"
    log.write_text(
        "case_id,event_name,timestamp\n" + "".join(f"c{i},received,0{i + 1}-10-2026 14:50:17\n" for i in range(8))
        + "c9,shipped,2026-10-09T14:50:17Z\n",
        encoding="utf-8",
    )
    base = ["ingest", "--log-format", "minimal", "--workflow", "fulfillment_v2"]
    assert main([*base, "--timezone", "Nowhere/Special", str(log)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --timezone 'Nowhere/Special' is not a known IANA time zone")
    assert main([*base, str(log)]) == 0
    out = capsys.readouterr().out
    assert "read 9, loaded 1, quarantined 8 (unparseable_timestamp=8)" in out
    assert (
        "event_ts is unparseable in 89% of rows; they look like '01-10-2026 14:50:17': pass --timestamp-format "
        "'%d-%m-%Y %H:%M:%S' (or '%m-%d-%Y %H:%M:%S' if the month comes first)" in out
    )
    assert main([*base, "--timestamp-format", "%d-%m-%Y %H:%M:%S", str(log)]) == 0  # the same bytes again
    out = capsys.readouterr().out
    assert "already loaded" in out and "did not apply to them" in out
    again = tmp_path / "cases_fixed.csv"  # new bytes: the first file's are in the ledger
    again.write_text(log.read_text(encoding="utf-8") + "c10,shipped,09-10-2026 15:00:00\n", encoding="utf-8")
    assert main([*base, "--timestamp-format", "%d-%m-%Y %H:%M:%S", "--timezone", "Europe/Berlin", str(again)]) == 0
    out = capsys.readouterr().out
    assert "read 10, loaded 9, quarantined 1 (duplicate_event_id=1)" in out
    assert "event_ts is unparseable" not in out
    assert "10% of rows were loaded before by another file" in out  # the ISO row c9, landed above
