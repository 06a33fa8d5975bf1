"""hints.py: the one-line cause-and-fix after a landing that quarantined much of a file for one reason."""
from __future__ import annotations

from datetime import datetime

import pytest

from orchestration.lib.landing.common import LandingResult
from orchestration.lib.landing.hints import (
    HINT_THRESHOLD,
    guess_strptime_formats,
    hints_for_result,
    landing_hints,
    quoted_value,
)


@pytest.mark.parametrize(
    ("sample", "formats"),
    [
        ("09-10-2012 14:50:17", ["%d-%m-%Y %H:%M:%S", "%m-%d-%Y %H:%M:%S"]),  # ambiguous: both orders
        ("25-10-2012 14:50", ["%d-%m-%Y %H:%M"]),
        ("10/25/2012 14:50", ["%m/%d/%Y %H:%M"]),
        ("2012/10/09 14:50:17", ["%Y/%m/%d %H:%M:%S"]),
        ("2012.10.09 14:50:17.250", ["%Y.%m.%d %H:%M:%S.%f"]),
        ("25/10/2012 2:50:17 PM", ["%d/%m/%Y %I:%M:%S %p"]),
        ("09 Oct 2012 14:50", ["%d %b %Y %H:%M"]),
        ("9 October 2012 14:50", ["%d %B %Y %H:%M"]),
        ("Oct 9, 2012 14:50", ["%b %d, %Y %H:%M"]),
        ("20121009 14:50:17", ["%Y%m%d %H:%M:%S"]),
        ("2012-10-09 14:50:17 +0200", ["%Y-%m-%d %H:%M:%S %z"]),
        ("25-10-12 14:50", ["%d-%m-%y %H:%M"]),
    ],
)
def test_guessed_formats_read_the_sample(sample, formats):
    assert guess_strptime_formats(sample) == formats
    for fmt in formats:
        datetime.strptime(sample, fmt)  # every guess reads the sample (Python's strptime, same syntax)


@pytest.mark.parametrize("sample", ["hello", "1349794217", "", "14:50 09-10-2012", "2012-10-09 14:50 Europe/Berlin"])
def test_unrecognised_layouts_give_no_guess(sample):
    assert guess_strptime_formats(sample) == []


def test_quoted_value_reads_the_detail_back():
    assert quoted_value("event_ts '09-10-2012 14:50:17' is not ISO 8601") == "09-10-2012 14:50:17"
    assert quoted_value("event_ts 'it''s' is not ISO 8601") == "it''s"
    assert quoted_value("event_id 'a' b' was loaded by an earlier file") == "a' b"
    assert quoted_value("region") is None and quoted_value(None) is None


def test_the_issue_example():
    [hint] = landing_hints(
        100, {"unparseable_timestamp": 62}, {"unparseable_timestamp": "event_ts '09-10-2012 14:50:17' is not ISO 8601"}
    )
    assert hint.startswith("event_ts is unparseable in 62% of rows; they look like '09-10-2012 14:50:17': ")
    assert "--timestamp-format '%d-%m-%Y %H:%M:%S' (or '%m-%d-%Y %H:%M:%S' if the month comes first)" in hint
    assert "--timezone" in hint


def test_threshold_is_more_than_five_percent():
    assert HINT_THRESHOLD == 0.05
    assert landing_hints(100, {"malformed_record": 5}) == []
    assert len(landing_hints(100, {"malformed_record": 6})) == 1
    assert landing_hints(0, {}) == []


def test_largest_share_first_and_one_line_each():
    hints = landing_hints(
        200,
        {"duplicate_event_id": 20, "unparseable_timestamp": 150, "negative_value": 1},
        {"duplicate_event_id": "event_id 'e9' was loaded by an earlier file"},
    )
    assert len(hints) == 2
    assert hints[0].startswith("event_ts is unparseable in 75% of rows")
    assert hints[1] == (
        "10% of rows were loaded before by another file (e.g. event_id 'e9'): the file was probably landed before "
        "under another name, or overlaps an earlier export; nothing more to do if so (the earlier copy is kept)"
    )
    assert all("\n" not in h for h in hints)


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("event_ts '2026-11-20T10:00:00+24:00' has UTC offset +24:00 (accepted: -14:00 to +14:00)",
         "UTC offset beyond -14:00..+14:00 in 50% of rows (e.g. +24:00)"),
        ("event_ts '2012/10/09 14:50' matches neither --timestamp-format '%d-%m-%Y %H:%M' nor ISO 8601",
         "does not match --timestamp-format '%d-%m-%Y %H:%M' in 50% of rows; they look like '2012/10/09 14:50': "
         "try --timestamp-format '%Y/%m/%d %H:%M'"),
        ("event_ts '2026-11-20' is not ISO 8601", "a date without a time of day"),
        ("event_ts 'soon' is not ISO 8601", "pass --timestamp-format with their strptime layout"),
    ],
)
def test_unparseable_timestamp_variants(detail, expected):
    [hint] = landing_hints(10, {"unparseable_timestamp": 5}, {"unparseable_timestamp": detail})
    assert expected in hint


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("case_id", "case_id is missing or blank in 30% of rows: if another column holds it, pass --map case_id=COLUMN"),
        ("region (pass --region or map a region column)", "pass --region REGION or map a region column"),
        ("event_id", "land it with --log-format minimal --workflow NAME"),
        ("run_id", "run_id is missing or blank in 30% of rows"),
    ],
)
def test_missing_required_field_names_the_field(detail, expected):
    [hint] = landing_hints(10, {"missing_required_field": 3}, {"missing_required_field": detail})
    assert expected in hint


def test_other_reasons():
    [unknown] = landing_hints(10, {"unknown_event_type": 10}, {"unknown_event_type": "event_type 'payment_captured'"})
    assert "100% of rows (e.g. event_type 'payment_captured')" in unknown
    assert "--log-format minimal --workflow NAME" in unknown
    [malformed] = landing_hints(10, {"malformed_record": 2}, {"malformed_record": "invalid JSON"})
    assert malformed.startswith("20% of records cannot be parsed (e.g. invalid JSON): check the file's format")
    [future] = landing_hints(10, {"future_timestamp": 2})
    assert "--timezone" in future
    [in_file] = landing_hints(10, {"duplicate_event_id_in_file": 4})
    assert in_file.startswith("event_id repeats within the file in 40% of rows")
    [other] = landing_hints(10, {"confidence_out_of_range": 4}, {"confidence_out_of_range": "confidence 7"})
    assert other == "40% of rows are quarantined as confidence_out_of_range (e.g. confidence 7); see docs/event-contract.md"


def test_hints_for_result():
    loaded = LandingResult("f.csv", "x", "loaded", "l1", 20, 10, 10, {"unparseable_timestamp": 10}, None,
                           quarantine_samples={"unparseable_timestamp": "event_ts '2012/10/09 14:50' is not ISO 8601"})
    [hint] = hints_for_result(loaded)
    assert "50% of rows" in hint and "'%Y/%m/%d %H:%M'" in hint
    assert hints_for_result(LandingResult("f.csv", "x", "already_loaded", "l1")) == []


def test_dagster_metadata_shows_the_same_hints(tmp_path):
    from orchestration.defs.landing import landing_hints as asset_hints
    from orchestration.defs.landing import landing_metadata
    from orchestration.lib.landing import LandingBatch

    result = LandingResult(str(tmp_path / "minimal" / "wf" / "a.csv"), "x", "loaded", "l1", 10, 0, 10,
                           {"duplicate_event_id": 10}, None)
    batch = LandingBatch(results=[result])
    assert asset_hints(batch, tmp_path) == {"minimal/wf/a.csv": hints_for_result(result)}
    metadata = landing_metadata(batch, tmp_path, {"events": 0, "quarantined": 10, "ledger_files": 1}, tmp_path / "w")
    assert "`minimal/wf/a.csv`: 100% of rows were loaded before by another file" in metadata["hints"].value
