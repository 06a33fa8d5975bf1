"""Process-mining marts (models/marts/process_mining) checked against pm4py, the field's reference
implementation (a test-only dependency, imported only here), plus the conformance verdicts, the DFG
picture and the register's reference-path validation.

One warehouse per module: a copy of the session's shared warehouse (telemetry + the order_to_ship
minimal log, already built) onto which two more minimal logs land, then ONE incremental build:
- ``lifecycle.csv`` (workflow mining_test), made from the generator's order-to-ship journeys
  (orchestration/lib/generator/minimal.py ``case_steps``) with lifecycle START / COMPLETE pairs
  (``lifecycle:transition`` column -> attributes), atomic events without a lifecycle, equal
  timestamps, four different UTC offsets, rows shuffled (file order decides ties);
- ``late.csv``: one late event ('returned') for an order_to_ship case built before, so the
  incremental build must recompute that case's variant, edges and conformance.

The order rule both sides follow (doc pm_event_order): event time, then file order. pm4py's
format_dataframe sorts by case, timestamp and the row's index in the input (the file order), so
the two agree on equal timestamps; variants and directly-follows use the lifecycle 'complete' events
(pm4py on the log filtered to complete), case durations every event (pm4py on the whole log).
"""
from __future__ import annotations

import csv
import shutil
from datetime import date, datetime, timedelta, timezone

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.generator.common import MS_PER_MIN, epoch_ms
from orchestration.lib.generator.minimal import case_steps
from orchestration.lib.register import RegisterError, load_register, parse_register
from orchestration.settings import REPO_ROOT

pytestmark = pytest.mark.integration

WORKFLOW = "mining_test"
XES_WORKFLOW = "xes_orders"
OFFSETS_MIN = (0, 120, -300, 330)  # Z, +02:00, -05:00, +05:30
BUILD_OK = 0


def _iso(ms: int, offset_min: int) -> str:
    text = datetime.fromtimestamp(ms / 1000, tz=timezone(timedelta(minutes=offset_min))).isoformat(
        timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _lifecycle_rows(cases: int = 60, seed: int = 12) -> list[tuple[str, str, int, str]]:
    """(case_id, event_name, epoch ms, lifecycle) rows, shuffled. Starts on Saturday 2026-11-14 so
    cases and edges span two ISO weeks."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, int, str]] = []
    for i in range(cases):
        t0 = epoch_ms(date(2026, 11, 14)) + i * 97 * MS_PER_MIN
        steps = case_steps(t0, 50.0, rng.random(8), rng.lognormal(0.0, 0.7, 12))
        case = f"LC-{i:03d}"
        events: list[tuple[str, str, int, str]] = []
        for name, ts, *_ in steps:
            if name in ("picked", "packed"):
                events.append((case, name, ts - 5 * MS_PER_MIN, "start"))
                events.append((case, name, ts, "COMPLETE"))
            else:
                events.append((case, name, ts, "complete" if i % 2 else ""))  # '' = atomic, no lifecycle
        if i % 3 == 0:  # the second event at the first one's instant: a tie that file order decides
            events[1] = (*events[1][:2], events[0][2], events[1][3])
        if i % 4 == 0:  # the last two events at the same instant
            events[-2] = (*events[-2][:2], events[-1][2], events[-2][3])
        rows += events
    order = rng.permutation(len(rows))
    return [rows[j] for j in order]


def _write_lifecycle_log(path) -> pd.DataFrame:
    rows = _lifecycle_rows()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "event_name", "timestamp", "lifecycle:transition"])
        for k, (case, name, ms, lifecycle) in enumerate(rows):
            w.writerow([case, name, _iso(ms, OFFSETS_MIN[k % len(OFFSETS_MIN)]), lifecycle])
    return pd.read_csv(path, keep_default_na=False)


@pytest.fixture(scope="module")
def mined(shared_warehouse, tmp_path_factory, cc_env):
    """The shared warehouse copied, the lifecycle log and a late event landed, one incremental build."""
    from orchestration.cli import main

    root = tmp_path_factory.mktemp("process_mining")
    db = root / "warehouse" / "command_center.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(shared_warehouse.db, db)
    mp = pytest.MonkeyPatch()
    try:
        settings = cc_env.apply(mp, root, duckdb=db)
        lifecycle_csv = root / "lifecycle.csv"
        lifecycle = _write_lifecycle_log(lifecycle_csv)
        shared_cases = pd.read_csv(shared_warehouse.cases, keep_default_na=False)
        late_case = shared_cases["case_id"].iloc[0]
        last = pd.to_datetime(shared_cases.loc[shared_cases.case_id == late_case, "timestamp"], utc=True).max()
        late_csv = root / "late.csv"
        late = pd.DataFrame({"case_id": [late_case], "event_name": ["returned"],
                             "timestamp": [(last + pd.Timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"]})
        late.to_csv(late_csv, index=False)
        assert main(["ingest", "--log-format", "minimal", "--workflow", WORKFLOW, "--region", "us-east-1",
                     str(lifecycle_csv)]) == 0
        assert main(["ingest", "--log-format", "minimal", "--workflow", "order_to_ship", "--region", "us-east-1",
                     str(late_csv)]) == 0
        # the generator's XES log: lifecycle start/complete, starts at the previous complete's instant,
        # four UTC offsets (orchestration/lib/generator/xes.py)
        xes = root / "orders.xes.gz"
        assert main(["generate", "--log-format", "xes", "--days", "4", "--runs-per-day", "12", "--seed", "5",
                     "--end-date", "2026-11-20", "--out", str(xes)]) == 0
        assert main(["ingest", "--log-format", "xes", "--workflow", XES_WORKFLOW, "--region", "eu-west-1",
                     str(xes)]) == 0
        assert main(["build"]) == BUILD_OK
        yield {"settings": settings, "db": db, "lifecycle": lifecycle, "late_case": late_case, "xes": xes,
               "order_to_ship": pd.concat([shared_cases[["case_id", "event_name", "timestamp"]], late],
                                          ignore_index=True),
               "root": root, "main": main}
    finally:
        mp.undo()


# ------------------------------------------------------------------------------------------------
# pm4py, the reference
# ------------------------------------------------------------------------------------------------

def _reference_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A CSV log (case_id, event_name, timestamp text[, lifecycle:transition]) as the reference's input."""
    lifecycle = df["lifecycle:transition"] if "lifecycle:transition" in df else pd.Series("", index=df.index)
    return pd.DataFrame({"case_id": df["case_id"], "event_name": df["event_name"],
                         "ts": pd.to_datetime(df["timestamp"], utc=True, format="ISO8601"),
                         "is_complete": lifecycle.replace("", "complete").str.lower() == "complete"})


def _xes_frame(path) -> pd.DataFrame:
    """An XES log read by pm4py's own reader, as the reference's input."""
    import pm4py

    log = pm4py.read_xes(str(path))
    return pd.DataFrame({"case_id": log["case:concept:name"].astype(str), "event_name": log["concept:name"].astype(str),
                         "ts": pd.to_datetime(log["time:timestamp"], utc=True),
                         "is_complete": log["lifecycle:transition"].fillna("complete").str.lower() == "complete"})


def _pm4py_reference(df: pd.DataFrame) -> dict:
    """Case durations (every event), variants and the DFG (lifecycle 'complete' events) by pm4py."""
    import pm4py
    from pm4py.statistics.traces.generic.pandas import case_statistics

    frame = _reference_frame(df) if "ts" not in df else df
    is_complete = frame.pop("is_complete")
    # only the three columns: format_dataframe turns any column whose text parses as a date (an empty
    # lifecycle, the timestamp text) into timestamps
    df = frame[["case_id", "event_name", "ts"]]

    def fmt(frame: pd.DataFrame) -> pd.DataFrame:
        return pm4py.format_dataframe(frame, case_id="case_id", activity_key="event_name", timestamp_key="ts")

    log = fmt(df)
    durations = {case: d["caseDuration"] for case, d in case_statistics.get_cases_description(log).items()}
    complete = fmt(df[is_complete])  # pm4py on the log filtered to lifecycle 'complete' (file order kept)
    variants = {" > ".join(v): (n if isinstance(n, int) else len(n)) for v, n in pm4py.get_variants(complete).items()}
    dfg, starts, ends = pm4py.discover_dfg(complete)
    return {"durations": durations, "variants": variants, "dfg": dict(dfg), "starts": dict(starts),
            "ends": dict(ends)}


def _marts(db, workflow: str) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        durations = dict(con.execute(
            "select case_id, case_duration_seconds from marts.fct_case_variants where workflow_id = ?",
            [workflow]).fetchall())
        variants = dict(con.execute("select variant, cases from marts.agg_variants where workflow_id = ?",
                                    [workflow]).fetchall())
        edges = con.execute(
            "select edge_kind, from_activity, to_activity, sum(edge_count) from marts.agg_directly_follows_weekly "
            "where workflow_id = ? group by all", [workflow]).fetchall()
    return {
        "durations": durations, "variants": variants,
        "dfg": {(a, b): int(n) for kind, a, b, n in edges if kind == "transition"},
        "starts": {b: int(n) for kind, _a, b, n in edges if kind == "start"},
        "ends": {a: int(n) for kind, a, _b, n in edges if kind == "end"},
    }


def _assert_same(ours: dict, ref: dict) -> None:
    assert ours["durations"].keys() == ref["durations"].keys()
    off = {c: (ours["durations"][c], ref["durations"][c]) for c in ref["durations"]
           if abs(ours["durations"][c] - ref["durations"][c]) > 1e-3}
    assert not off, f"case durations differ from pm4py: {dict(list(off.items())[:5])}"
    assert ours["variants"] == ref["variants"]
    assert ours["dfg"] == ref["dfg"]
    assert ours["starts"] == ref["starts"]
    assert ours["ends"] == ref["ends"]


def test_the_lifecycle_log_has_ties_starts_and_mixed_offsets(mined):
    log = mined["lifecycle"]
    ts = pd.to_datetime(log["timestamp"], utc=True, format="ISO8601")
    assert (log.groupby([log.case_id, ts]).size() > 1).sum() >= 20  # equal timestamps within a case
    assert (log["lifecycle:transition"] == "start").sum() >= 100
    assert (log["lifecycle:transition"] == "").sum() >= 100
    assert {t[-6:] for t in log["timestamp"] if not t.endswith("Z")} == {"+02:00", "-05:00", "+05:30"}


def test_lifecycle_log_matches_pm4py(mined):
    ours, ref = _marts(mined["db"], WORKFLOW), _pm4py_reference(mined["lifecycle"])
    assert len(ref["variants"]) > 3 and sum(ref["dfg"].values()) > 250
    _assert_same(ours, ref)


def test_generated_minimal_log_with_a_late_event_matches_pm4py(mined):
    """order_to_ship was built before the late event landed: the incremental build recomputed it."""
    ours, ref = _marts(mined["db"], "order_to_ship"), _pm4py_reference(mined["order_to_ship"])
    _assert_same(ours, ref)
    with duckdb.connect(str(mined["db"]), read_only=True) as con:
        variant, end = con.execute(
            "select variant, end_activity from marts.fct_case_variants where workflow_id = 'order_to_ship' "
            "and case_id = ?", [mined["late_case"]]).fetchone()
    assert variant.endswith("shipped > returned") and end == "returned"


def test_xes_log_matches_pm4py_read_xes(mined):
    """The same XES file read by pm4py's reader and by the project's landing."""
    ref = _pm4py_reference(_xes_frame(mined["xes"]))
    assert len(ref["durations"]) > 20
    _assert_same(_marts(mined["db"], XES_WORKFLOW), ref)


def test_activity_durations_pair_start_and_complete(mined):
    log = mined["lifecycle"]
    with duckdb.connect(str(mined["db"]), read_only=True) as con:
        rows = con.execute(
            "select pairing, count(*), min(duration_seconds), max(duration_seconds) "
            "from marts.fct_activity_durations where workflow_id = ? group by all", [WORKFLOW]).fetchall()
    # every START is 5 minutes before its COMPLETE (written so): all paired, all 300 s
    assert rows == [("paired", int((log["lifecycle:transition"] == "start").sum()), 300.0, 300.0)]


def test_conformance_flags_rework_and_the_late_return(mined):
    with duckdb.connect(str(mined["db"]), read_only=True) as con:
        late = con.execute(
            "select is_conforming, has_wrong_end, unexpected_transition_count, deviations "
            "from marts.fct_case_conformance where workflow_id = 'order_to_ship' and case_id = ?",
            [mined["late_case"]]).fetchone()
        rework_ok = con.execute(
            "select count(*) from marts.fct_case_conformance c join marts.fct_case_variants v using (workflow_id, case_id) "
            "where c.workflow_id = 'order_to_ship' and v.variant like '%packed > picked%' "
            "and c.deviations not like '%unexpected_transition: packed -> picked%'").fetchone()[0]
        weekly = con.execute(
            "select sum(cases), sum(conforming_cases) from marts.agg_conformance_weekly "
            "where workflow_id = 'order_to_ship'").fetchone()
        cases = con.execute(
            "select count(*), count(*) filter (where is_conforming) from marts.fct_case_conformance "
            "where workflow_id = 'order_to_ship'").fetchone()
        no_path = con.execute(
            "select count(*) from marts.fct_case_conformance where workflow_id = ?", [WORKFLOW]).fetchone()[0]
    assert late[:3] == (False, True, 1)
    assert "unexpected_transition: shipped -> returned" in late[3] and "wrong_end: returned" in late[3]
    assert rework_ok == 0
    assert weekly == cases  # the weekly fitness counts every case once
    assert no_path == 0  # no reference path, no conformance rows


def test_dfg_command_writes_svg(mined, capsys):
    """The environment still points at the module's warehouse (the fixture undoes it at teardown)."""
    main, out = mined["main"], mined["root"] / "dfg.svg"
    assert main(["dfg", "--workflow", WORKFLOW, "--week", "2026-11-18", "--out", str(out)]) == 0
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "picked" in svg and "▶" in svg and "■" in svg
    assert "week of 2026-11-16" in capsys.readouterr().out
    assert main(["dfg", "--workflow", WORKFLOW, "--week", "2025-01-01", "--out", str(out)]) == 1
    assert "weeks with edges: 2026-11-09, 2026-11-16" in capsys.readouterr().err
    assert main(["dfg", "--workflow", "no_such_flow", "--out", str(out)]) == 1
    assert "workflows with edges:" in capsys.readouterr().err

def test_register_reference_paths_validate_with_clear_errors():
    register = load_register(REPO_ROOT / "command_center.yml")
    paths = {p.workflow_id: p for p in register.process_mining.reference_paths}
    assert "order_to_ship" in paths and ("picked", "packed") in paths["order_to_ship"].transition_pairs()
    import yaml

    data = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    data["process_mining"] = {"reference_paths": [
        {"workflow_id": "a", "transitions": ["x -> y", "x y"]},
        {"workflow_id": "b"},
        {"workflow_id": "c", "required_stages": ["s", "s"]},
    ]}
    with pytest.raises(RegisterError) as exc:
        parse_register(data)
    text = str(exc.value)
    assert "transitions[1] 'x y' must look like 'activity_a -> activity_b'" in text
    assert "reference path of 'b' sets no rule" in text
    assert "duplicate activity" in text
    data["process_mining"] = {"reference_paths": [{"workflow_id": "a", "end_activities": ["z"]},
                                                   {"workflow_id": "a", "start_activities": ["z"]}]}
    with pytest.raises(RegisterError, match="duplicate reference path for 'a'"):
        parse_register(data)



# ------------------------------------------------------------------------------------------------
# the memory-bounded grain test (macros/generic_tests/unique_combination_of_columns_hashed.sql)
# ------------------------------------------------------------------------------------------------

SEQ_GRAIN = "int_case_events_sequenced_workflow_id__run_id__event_seq"
SEQ_GRAIN_FULL = f"unique_combination_of_columns_{SEQ_GRAIN}"  # whole history (full_history, weekly)
SEQ_GRAIN_NEW = f"unique_new_combination_of_columns_{SEQ_GRAIN}"  # the nightly companion


def _grain_test(settings, name: str) -> str | None:
    """None when the data test passes, else dbt's failure text."""
    from orchestration.lib.dbt import DbtFailed, run_dbt

    try:
        run_dbt(settings, ["test", "--select", name])
    except DbtFailed as exc:
        return str(exc)
    return None


def test_hashed_grain_test_catches_a_planted_duplicate(shared_warehouse_copy):
    """The grain test groups by one hash of the combination, then checks the columns of the rows whose
    hash repeats: it passes on the built warehouse, and a planted duplicate row fails it - in old data
    the whole-history test (not the nightly companion), in new data the companion too, and before any
    check passed (no mark: a first build) the companion covers every row."""
    settings = shared_warehouse_copy
    db = str(settings.duckdb_path)
    assert _grain_test(settings, SEQ_GRAIN_FULL) is None
    assert _grain_test(settings, SEQ_GRAIN_NEW) is None
    with duckdb.connect(db) as con:
        (mark,) = con.execute("select max(checked_through) from intermediate.build_checked_through").fetchone()
        assert mark is not None
        # OLD: a copy of one sequenced event, as old as it (same max_loaded_at, before the mark)
        con.execute("""
            insert into intermediate.int_case_events_sequenced
            select * from intermediate.int_case_events_sequenced
            where event_id = (select min(event_id) from intermediate.int_case_events_sequenced)
        """)
    full = _grain_test(settings, SEQ_GRAIN_FULL)
    assert full is not None and SEQ_GRAIN_FULL in full, full
    assert _grain_test(settings, SEQ_GRAIN_NEW) is None, "the companion looks only at the rows touched since the mark"

    with duckdb.connect(db) as con:
        # NEW: another event's copy, with a max_loaded_at after the mark
        con.execute("""
            insert into intermediate.int_case_events_sequenced
            select * replace (cast(? as timestamp) + interval 1 hour as max_loaded_at)
            from intermediate.int_case_events_sequenced
            where event_id = (select max(event_id) from intermediate.int_case_events_sequenced)
        """, [mark])
    new = _grain_test(settings, SEQ_GRAIN_NEW)
    assert new is not None and SEQ_GRAIN_NEW in new, new
    with duckdb.connect(db) as con:
        # the failing rows are the two planted duplicates, each combination counted twice
        dupes = con.execute("""
            select count(*), min(n), max(n) from (
                select workflow_id, run_id, event_seq, count(*) as n
                from intermediate.int_case_events_sequenced group by all having count(*) > 1)
        """).fetchone()
        assert dupes == (2, 2, 2)
        # no mark yet (a first build): the companion is the whole-history check and sees the old duplicate too
        con.execute("delete from intermediate.int_case_events_sequenced where max_loaded_at > ?", [mark])
        con.execute("delete from intermediate.build_checked_through")
    first = _grain_test(settings, SEQ_GRAIN_NEW)
    assert first is not None and SEQ_GRAIN_NEW in first, first
