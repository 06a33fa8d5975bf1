"""Real process-mining logs in the minimal format lose no events (issue 18, section 2).

Generated logs in every shape real exports have -- no actor column, some blank actors, identical
rows, non-ISO timestamps, local time across both daylight-saving transitions -- are landed through
the CLI; case count, event count and case durations in raw.workflow_events and, after a dbt build,
in marts.fct_workflow_runs must equal a straightforward recomputation from the file in Python
(csv / json / datetime / zoneinfo), not from the warehouse.
"""
from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestration.cli import main
from orchestration.lib.warehouse import connect

WORKFLOW = "fulfillment_v2"
BERLIN = ZoneInfo("Europe/Berlin")
ACTIVITIES = ["order_received", "payment_captured", "picked", "packed", "label_printed", "shipped"]


def _transitions(zone: ZoneInfo, today: date) -> dict[str, date]:
    """The latest spring-forward and fall-back days of ``zone`` before ``today`` (within a year, so
    the events stay inside the register's retention)."""
    found: dict[str, date] = {}
    day = today - timedelta(days=2)
    while len(found) < 2 and day > today - timedelta(days=366):
        before = datetime(day.year, day.month, day.day, 0, 0, tzinfo=zone).utcoffset()
        after = datetime(day.year, day.month, day.day, 23, 0, tzinfo=zone).utcoffset()
        if before != after:
            found.setdefault("spring" if after > before else "fall", day)
        day -= timedelta(days=1)
    assert len(found) == 2, "the zone must have both DST transitions in the last year"
    return found


def local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """The documented rule (docs/event-contract.md, Timestamps): in the repeated hour the later
    (standard-time) instant; in the skipped hour the offset in force before the change."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC).replace(tzinfo=None)
    exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    chosen = second if exists else first  # exists in both folds = ambiguous: the later; else a gap
    return chosen.astimezone(UTC).replace(tzinfo=None)


def _cases(rng: random.Random, prefix: str, n: int, start: datetime) -> list[tuple[str, str, datetime]]:
    """(case_id, event_name, naive instant) rows of ``n`` cases from about ``start``."""
    rows = []
    for i in range(n):
        t = start + timedelta(minutes=rng.randrange(0, 600))
        for name in ACTIVITIES[: rng.randrange(2, len(ACTIVITIES) + 1)]:
            rows.append((f"{prefix}{i:03d}", name, t))
            t += timedelta(minutes=rng.randrange(1, 240), seconds=rng.randrange(60))
    rng.shuffle(rows)  # real exports are not sorted by case
    return rows


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generate_logs(folder: Path, today: date) -> dict[str, dict]:
    """Every shape, one file each: {name: {path, args (CLI flags), parse (text -> naive UTC)}}."""
    rng = random.Random(18)
    base = datetime(today.year, today.month, today.day) - timedelta(days=20)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    from_iso = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)  # noqa: E731
    logs: dict[str, dict] = {}

    # 1. no actor column at all (a log without resources)
    rows = _cases(rng, "na-", 12, base)
    logs["no_actor"] = {
        "path": _write_csv(folder / "no_actor.csv", ["case_id", "event_name", "timestamp"],
                           [[c, e, iso(t)] for c, e, t in rows]),
        "args": [], "parse": from_iso,
    }

    # 2. some blank actors (system steps): empty string, JSON null, or no key at all; JSON Lines
    lines = []
    for c, e, t in _cases(rng, "ba-", 12, base + timedelta(days=1)):
        record = {"case_id": c, "event_name": e, "timestamp": iso(t), "channel": "web"}
        kind = rng.randrange(4)
        if kind == 0:
            record["actor"] = f"clerk{rng.randrange(5)}@example.com"
        elif kind == 1:
            record["actor"] = "   "
        elif kind == 2:
            record["actor"] = None
        lines.append(json.dumps(record))
    path = folder / "blank_actors.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logs["blank_actors"] = {"path": path, "args": [], "parse": from_iso}

    # 3. identical rows: every row once, some twice or three times (adjacent and apart)
    rows = [[c, e, iso(t), "wms"] for c, e, t in _cases(rng, "du-", 12, base + timedelta(days=2))]
    rows += [list(r) for r in rng.sample(rows, 10)] + [list(r) for r in rng.sample(rows, 4)]
    rng.shuffle(rows)
    logs["duplicates"] = {
        "path": _write_csv(folder / "duplicates.csv", ["case_id", "event_name", "timestamp", "actor"], rows),
        "args": [], "parse": from_iso,
    }

    # 4. non-ISO timestamps (day first, dashes), UTC
    fmt = "%d-%m-%Y %H:%M:%S"
    rows = _cases(rng, "dm-", 12, base + timedelta(days=3))
    logs["day_month"] = {
        "path": _write_csv(folder / "day_month.csv", ["case_id", "event_name", "timestamp", "actor"],
                           [[c, e, t.strftime(fmt), "clerk"] for c, e, t in rows]),
        "args": ["--timestamp-format", fmt], "parse": lambda s: datetime.strptime(s, fmt),
    }

    # 5. local time (Europe/Berlin), cases across both DST transitions, events in the repeated hour
    days = _transitions(BERLIN, today)
    rows = []
    for k, (label, day) in enumerate(sorted(days.items())):
        night = datetime(day.year, day.month, day.day, 0, 30)
        for i in range(8):
            t = night + timedelta(minutes=20 * i)
            for name in ACTIVITIES[:4]:
                if label == "spring" and t.hour == 2:  # a local clock never shows the skipped hour
                    t += timedelta(hours=1)
                rows.append((f"lt{k}-{i:03d}", name, t))
                t += timedelta(minutes=35)
    # a case inside the repeated hour: 02:10 is read as the later (standard-time) 02:10
    fall = days["fall"]
    rows += [("lt9-000", "picked", datetime(fall.year, fall.month, fall.day, 1, 50)),
             ("lt9-000", "packed", datetime(fall.year, fall.month, fall.day, 2, 10)),
             ("lt9-000", "shipped", datetime(fall.year, fall.month, fall.day, 3, 5))]
    logs["local_time"] = {
        "path": _write_csv(folder / "local_time.csv", ["case_id", "event_name", "timestamp", "actor"],
                           [[c, e, t.strftime("%Y-%m-%d %H:%M:%S"), "clerk"] for c, e, t in rows]),
        "args": ["--timezone", "Europe/Berlin"],
        "parse": lambda s: local_to_utc(datetime.fromisoformat(s), BERLIN),
    }

    # 6. both: a non-ISO layout in local time
    fmt_local = "%Y/%m/%d %H:%M"
    rows = _cases(rng, "fl-", 10, base + timedelta(days=4))
    logs["format_and_zone"] = {
        "path": _write_csv(folder / "format_and_zone.csv", ["case_id", "event_name", "timestamp", "actor"],
                           [[c, e, t.strftime(fmt_local), "clerk"] for c, e, t in rows]),
        "args": ["--timestamp-format", fmt_local, "--timezone", "America/New_York"],
        "parse": lambda s: local_to_utc(datetime.strptime(s, fmt_local), ZoneInfo("America/New_York")),
    }
    return logs


def expected_cases(log: dict) -> dict[str, tuple[int, datetime, datetime]]:
    """Straight from the file: per case, (events, first instant, last instant), UTC."""
    path: Path = log["path"]
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh))
    by_case: dict[str, list[datetime]] = defaultdict(list)
    for r in records:
        by_case[r["case_id"]].append(log["parse"](r["timestamp"]))
    return {c: (len(ts), min(ts), max(ts)) for c, ts in by_case.items()}


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """The generated logs, landed through the CLI into one warehouse (built by the dbt test)."""
    tmp = tmp_path_factory.mktemp("minimal_logs")
    mp = pytest.MonkeyPatch()
    mp.setenv("COMMAND_CENTER_DUCKDB", str(tmp / "cc.duckdb"))
    mp.setenv("COMMAND_CENTER_LANDING_DIR", str(tmp / "landing"))
    mp.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    mp.setenv("COMMAND_CENTER_DBT_TARGET", "duckdb")
    logs = generate_logs(tmp, datetime.now(UTC).date())
    for name, log in logs.items():
        argv = ["ingest", "--log-format", "minimal", "--workflow", WORKFLOW, *log["args"], str(log["path"])]
        assert main(argv) == 0, name
    yield tmp / "cc.duckdb", logs
    mp.undo()


def _warehouse_cases(db: Path, sql: str) -> dict[str, tuple[int, datetime, datetime]]:
    con = connect(db, read_only=True)
    try:
        return {r[0]: tuple(r[1:]) for r in con.execute(sql).fetchall()}
    finally:
        con.close()


@pytest.mark.parametrize(
    "shape", ["no_actor", "blank_actors", "duplicates", "day_month", "local_time", "format_and_zone"]
)
def test_raw_events_equal_the_file(landed, shape):
    db, logs = landed
    expected = expected_cases(logs[shape])
    got = _warehouse_cases(
        db,
        f"""select run_id, count(*), min(event_ts), max(event_ts) from raw.workflow_events
            where source_file = '{logs[shape]["path"].resolve()}' group by 1""",
    )
    assert len(got) == len(expected)  # case count
    assert sum(n for n, *_ in got.values()) == sum(n for n, *_ in expected.values())  # event count
    assert got == expected  # per case: events, start and end, hence the case duration
    con = connect(db, read_only=True)
    try:
        quarantined = con.execute(
            "select count(*) from raw.quarantine where source_file = ?", [str(logs[shape]["path"].resolve())]
        ).fetchone()[0]
    finally:
        con.close()
    assert quarantined == 0


def test_blank_and_absent_actors_are_null(landed):
    db, logs = landed
    con = connect(db, read_only=True)
    try:
        no_actor = con.execute(
            "select count(*), count(actor) from raw.workflow_events where run_id like 'na-%'"
        ).fetchone()
        blank = con.execute(
            "select count(*) filter (where actor is null), count(*) filter (where trim(actor) = '') "
            "from raw.workflow_events where run_id like 'ba-%'"
        ).fetchone()
    finally:
        con.close()
    assert no_actor[0] > 0 and no_actor[1] == 0
    assert blank[0] > 0 and blank[1] == 0


def test_the_same_rows_in_another_file_are_duplicates(landed, tmp_path, capsys):
    db, logs = landed
    original = logs["duplicates"]["path"]
    again = tmp_path / "duplicates_again.csv"
    lines = original.read_text(encoding="utf-8").splitlines()
    # the same rows in another order, plus one new event: another file, other bytes
    body = lines[1:]
    random.Random(1).shuffle(body)
    new_row = f"du-new,order_received,{datetime.now(UTC) - timedelta(days=3):%Y-%m-%dT%H:%M:%SZ},wms"
    again.write_text("\n".join([lines[0], *body, new_row]) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["ingest", "--log-format", "minimal", "--workflow", WORKFLOW, str(again)]) == 0
    out = capsys.readouterr().out
    assert f"read {len(body) + 1}, loaded 1, quarantined {len(body)} (duplicate_event_id={len(body)})" in out
    assert "landed before under another name" in out  # the hint


def test_dbt_build_marts_equal_the_file(landed):
    """After a dbt build, fct_workflow_runs has one run per case with the file's event count, start,
    end and cycle time."""
    db, logs = landed
    assert main(["build"]) == 0
    got = _warehouse_cases(
        db,
        f"""select run_id, event_count, started_at, ended_at from marts.fct_workflow_runs
            where workflow_id = '{WORKFLOW}' and run_id <> 'du-new'""",
    )
    expected = {}
    for log in logs.values():
        expected.update(expected_cases(log))
    assert len(got) == len(expected)
    assert got == expected
    cycle = _warehouse_cases(
        db, f"select run_id, cycle_time_seconds from marts.fct_workflow_runs where workflow_id = '{WORKFLOW}'"
    )
    for case, (_, start, end) in expected.items():
        assert cycle[case] == ((end - start).total_seconds(),)


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_an_event_id_column_with_gaps_derives_the_missing_ids(command_center_env, tmp_path, suffix, capsys):
    """An event_id column that some rows leave absent or blank does not refuse the file: those rows
    get the derived id (docs/event-contract.md, Shape 2), the others keep theirs."""
    day = datetime.now(UTC) - timedelta(days=3)
    ts = [f"{day + timedelta(hours=h):%Y-%m-%dT%H:%M:%SZ}" for h in range(3)]
    path = tmp_path / f"gaps.{suffix}"
    if suffix == "jsonl":
        rows = [
            {"case_id": "g1", "event_name": "a", "timestamp": ts[0], "event_id": "given-1"},
            {"case_id": "g1", "event_name": "b", "timestamp": ts[1]},
            {"case_id": "g1", "event_name": "c", "timestamp": ts[2], "event_id": " "},
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        _write_csv(path, ["case_id", "event_name", "timestamp", "event_id"],
                   [["g1", "a", ts[0], "given-1"], ["g1", "b", ts[1], ""], ["g1", "c", ts[2], ""]])
    assert main(["ingest", "--log-format", "minimal", "--workflow", WORKFLOW, str(path)]) == 0
    assert "read 3, loaded 3, quarantined 0" in capsys.readouterr().out
    con = connect(command_center_env.duckdb_path, read_only=True)
    try:
        ids = dict(con.execute("select stage, event_id from raw.workflow_events").fetchall())
    finally:
        con.close()
    assert ids["a"] == "given-1"
    assert ids["b"].startswith("mvl_") and ids["c"].startswith("mvl_") and ids["b"] != ids["c"]
