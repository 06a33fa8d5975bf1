"""landing_folder_sensor: new or changed files -> one run request; nothing new -> skip.

The pure diffing (orchestration/lib/landing_sensor.py) on hand-made states, then the sensor itself
on a tmp landing folder with ``dg.build_sensor_context``. No warehouse is involved: the sensor must
work without one (and never creates one).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.resources import LandingResource
from orchestration.defs.sensors import landing_folder_sensor
from orchestration.lib.landing_sensor import (
    diff_files,
    dump_cursor,
    file_states,
    load_cursor,
    run_key,
)

# --------------------------------------------------------------------------------------------------
# Pure logic
# --------------------------------------------------------------------------------------------------


def test_diff_finds_new_changed_and_removed_files():
    previous = {"a.jsonl": (10, 1), "b.csv": (20, 2), "gone.jsonl": (5, 3)}
    current = {"a.jsonl": (10, 1), "b.csv": (21, 2), "c.parquet": (7, 4)}
    diff = diff_files(previous, current)
    assert diff.new == ("c.parquet",)
    assert diff.changed == ("b.csv",)
    assert diff.removed == ("gone.jsonl",)
    assert diff.to_land == ("b.csv", "c.parquet")
    assert diff.has_files_to_land


def test_a_touched_file_counts_as_changed_and_an_unchanged_folder_as_nothing():
    assert diff_files({"a.jsonl": (10, 1)}, {"a.jsonl": (10, 2)}).changed == ("a.jsonl",)
    same = diff_files({"a.jsonl": (10, 1)}, {"a.jsonl": (10, 1)})
    assert not same.has_files_to_land and same.to_land == ()


def test_cursor_round_trips_and_a_bad_cursor_counts_as_empty():
    states = {"b.csv": (20, 2), "a.jsonl": (10, 1)}
    cursor = dump_cursor(states)
    assert load_cursor(cursor) == states
    assert cursor == dump_cursor(dict(reversed(states.items())))  # same files, same string
    assert json.loads(cursor)["version"] == 1
    for bad in (None, "", "not json", "[]", '{"version": 99, "files": {}}', '{"version": 1, "files": {"a": [1]}}'):
        assert load_cursor(bad) == {}


def test_run_key_names_the_files_and_their_states():
    current = {"a.jsonl": (10, 1), "b.csv": (20, 2)}
    key = run_key(current, ["b.csv", "a.jsonl"])
    assert key == run_key(current, ["a.jsonl", "b.csv"])  # order does not matter
    assert key != run_key({**current, "a.jsonl": (11, 1)}, ["a.jsonl", "b.csv"])  # a new state, a new key
    assert key != run_key(current, ["a.jsonl"])
    assert key.startswith("landing-")


def test_file_states_are_relative_posix_paths_with_size_and_mtime(tmp_path):
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "x.jsonl"
    f.write_text("{}\n")
    states = file_states(tmp_path, [f, tmp_path / "vanished.jsonl"])
    assert states == {"sub/x.jsonl": (3, f.stat().st_mtime_ns)}


# --------------------------------------------------------------------------------------------------
# The sensor
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def landing(tmp_path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


def evaluate(folder: Path, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": LandingResource(landing_dir=str(folder))})
    result = landing_folder_sensor(context)
    return result, context.cursor


def write(path: Path, text: str, mtime: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def test_sensor_requests_one_run_for_new_files_skips_the_same_files_and_requests_again_for_a_change(landing):
    write(landing / "2026-11-23" / "a.jsonl", '{"event_id": "1"}\n')
    write(landing / "b.csv", "case_id,event_name,timestamp,actor\n")
    write(landing / "README.txt", "not landable\n")
    write(landing / ".partial" / "half.jsonl", "{}\n")

    # new files: exactly one run request, of the landing-only job, and the cursor remembers them
    request, cursor = evaluate(landing, None)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key and request.tags["command_center/new_files"] == "2"
    assert landing_folder_sensor.job_name == "land_new_files"
    assert set(load_cursor(cursor)) == {"2026-11-23/a.jsonl", "b.csv"}

    # the same files again: skip, no new cursor
    skip, same_cursor = evaluate(landing, cursor)
    assert isinstance(skip, dg.SkipReason)
    assert "no new or changed files" in skip.skip_message
    assert same_cursor == cursor

    # a file that changed (new content, new size): one request naming that change
    write(landing / "b.csv", "case_id,event_name,timestamp,actor\nX,y,2026-11-20T00:00:00Z,z\n")
    changed, cursor_after_change = evaluate(landing, cursor)
    assert isinstance(changed, dg.RunRequest)
    assert changed.tags == {"command_center/new_files": "0", "command_center/changed_files": "1"}
    assert changed.run_key != request.run_key

    # re-evaluating the change from the old cursor (a tick whose cursor update was lost) gives the
    # same run key, which Dagster does not launch twice
    again, _ = evaluate(landing, cursor)
    assert again.run_key == changed.run_key

    # one more new file after that: a request, then quiet
    write(landing / "c.jsonl", "{}\n")
    new_one, cursor_c = evaluate(landing, cursor_after_change)
    assert isinstance(new_one, dg.RunRequest) and new_one.tags["command_center/new_files"] == "1"
    assert isinstance(evaluate(landing, cursor_c)[0], dg.SkipReason)


def test_a_touched_file_with_the_same_size_is_requested_again(landing):
    f = write(landing / "a.jsonl", "{}\n", mtime=1_700_000_000_000_000_000)
    _, cursor = evaluate(landing, None)
    os.utime(f, ns=(1_700_000_060_000_000_000,) * 2)
    request, _ = evaluate(landing, cursor)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["command_center/changed_files"] == "1"


def test_a_removed_file_is_forgotten_without_a_run(landing):
    write(landing / "a.jsonl", "{}\n")
    write(landing / "b.jsonl", "{}\n")
    _, cursor = evaluate(landing, None)
    (landing / "b.jsonl").unlink()
    skip, cursor_after = evaluate(landing, cursor)
    assert isinstance(skip, dg.SkipReason)
    assert set(load_cursor(cursor_after)) == {"a.jsonl"}


def test_an_empty_or_missing_folder_skips(landing, tmp_path):
    result, _ = evaluate(landing, None)
    assert isinstance(result, dg.SkipReason)
    missing, _ = evaluate(tmp_path / "nope", None)
    assert isinstance(missing, dg.SkipReason) and "does not exist" in missing.skip_message


def test_the_sensor_never_creates_or_opens_a_warehouse(landing, tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse" / "command_center.duckdb"
    monkeypatch.setenv("COMMAND_CENTER_DUCKDB", str(warehouse))
    write(landing / "a.jsonl", "{}\n")
    import duckdb

    def refuse(*args, **kwargs):
        raise AssertionError("the sensor opened DuckDB")

    monkeypatch.setattr(duckdb, "connect", refuse)
    request, _ = evaluate(landing, None)
    assert isinstance(request, dg.RunRequest)
    assert not warehouse.exists()


def test_a_file_still_being_written_is_not_requested_until_it_is_still(landing):
    import threading

    write(landing / "done.jsonl", "{}\n")
    growing = write(landing / "growing.jsonl", "{}\n")
    stop = threading.Event()

    def writer():
        with growing.open("a") as fh:
            while not stop.is_set():
                fh.write("{}\n")
                fh.flush()
                time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        request, cursor = evaluate(landing, None)
    finally:
        stop.set()
        thread.join()
    assert isinstance(request, dg.RunRequest) and request.tags["command_center/new_files"] == "1"
    assert set(load_cursor(cursor)) == {"done.jsonl"}
    later, cursor_later = evaluate(landing, cursor)  # the writer stopped: now it is requested
    assert isinstance(later, dg.RunRequest) and later.tags["command_center/new_files"] == "1"
    assert set(load_cursor(cursor_later)) == {"done.jsonl", "growing.jsonl"}
