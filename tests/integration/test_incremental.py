"""Incremental builds on real DuckDB files: late and out-of-order events end up where a full refresh
puts them, and ``--full-refresh`` and the incremental path give the same marts.

Two weeks of generated events are split into a base load (events before 2026-11-22, less a few held
back) and a late load (the last day plus the held-back events, shuffled): a run end that arrives a
day late, an exception resolved a week after it was raised, an acknowledgement that arrives late, a
whole run from the first day (older than any window) and one stage event from the middle of an old
run. Warehouse ``incremental`` lands the base, builds, lands the late file and builds incrementally;
warehouse ``scratch`` lands the same two files (same ``loaded_at``) and builds once with
``--full-refresh``. Every mart and both incremental intermediate tables must be equal row for row.

Compared: every table in the marts schema except ``fct_slo_weekly_snapshot`` - it is history-keeping
by design (``full_refresh: false``, only the ``as_of`` week and the lookback week are recomputed, and
``snapshotted_at`` is the build time), so it legitimately differs from a from-scratch build
(tests/integration/test_slo_snapshot.py covers it). Rules: doc block ``incremental_rules`` in
models/marts/runs/_runs__docs.md.
"""
from __future__ import annotations

import math
import os
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from orchestration.lib.dbt import run_dbt
from orchestration.lib.generator import generate_events, write_events
from orchestration.lib.landing import land_file
from orchestration.lib.register import land_register, load_register, register_sha256
from orchestration.lib.warehouse import connect, open_warehouse
from orchestration.settings import Settings, get_settings

END = date(2026, 11, 23)  # the generated events fill the 14 days before it
CUTOFF = "2026-11-22"  # the base load holds the events before it (less the held-back ones)
BASE_LOADED_AT = datetime(2026, 11, 22, 6, tzinfo=UTC)
LATE_LOADED_AT = datetime(2026, 11, 23, 6, tzinfo=UTC)
EXCLUDED_MARTS = {"fct_slo_weekly_snapshot"}  # history-keeping, build-time snapshotted_at (docstring)
INCREMENTAL_TABLES = [("intermediate", "int_runs_summarized"), ("intermediate", "int_exceptions_summarized"),
                      ("intermediate", "int_stage_attempts_summarized"), ("intermediate", "int_approvals_summarized"),
                      ("intermediate", "int_run_outcomes_summarized"), ("semantic", "dim_time_spine_day")]


def _ts(value: str) -> datetime:
    """A generated event_ts (ISO 8601, with Z, an offset or none = UTC, as landing reads it) in UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def split_events(table: pa.Table) -> tuple[list[dict], list[dict], dict[str, str]]:
    """(base rows, late rows, what was held back) - the late rows shuffled (out of order)."""
    rows = table.to_pylist()
    at = {r["event_id"]: _ts(r["event_ts"]) for r in rows}  # event_ts carry offsets: compare in UTC
    rows.sort(key=lambda r: (at[r["event_id"]], r["event_id"]))
    cutoff = _ts(CUTOFF + "T00:00:00Z")
    by_type: dict[str, list[dict]] = {}
    for r in rows:
        by_type.setdefault(r["event_type"], []).append(r)
    held: dict[str, str] = {}

    # a run end that arrives a day late: a run_completed of the 3 days before the cutoff
    late_end = next(r for r in by_type["run_completed"] if cutoff - timedelta(days=3) <= at[r["event_id"]] < cutoff)
    held[late_end["event_id"]] = "run end a day late"

    # an exception resolved a week after its raise (the resolution moved to raise + 7 days)
    raised = {r["exception_id"]: at[r["event_id"]] for r in by_type["exception_raised"]}
    resolution = next(
        r for r in by_type["exception_resolved"]
        if r["exception_id"] in raised and raised[r["exception_id"]] + timedelta(days=7) < cutoff
    )
    resolution["event_ts"] = _iso(raised[resolution["exception_id"]] + timedelta(days=7))
    held[resolution["event_id"]] = "exception resolved a week later"

    # a first touch that arrives late (another exception)
    touch = next(r for r in by_type["exception_acknowledged"] if r["exception_id"] != resolution["exception_id"])
    held[touch["event_id"]] = "acknowledgement landed late"

    # older than any window: a whole run of the first day, and one stage event of another early run
    first_day = at[rows[0]["event_id"]] + timedelta(days=1)
    old_run = next(r for r in by_type["run_started"] if at[r["event_id"]] < first_day)
    for r in rows:
        if (r["workflow_id"], r["run_id"]) == (old_run["workflow_id"], old_run["run_id"]):
            held[r["event_id"]] = "whole run from the first day"
    old_stage = next(
        r for r in by_type["stage_completed"]
        if at[r["event_id"]] < first_day + timedelta(days=2) and r["run_id"] != old_run["run_id"]
    )
    held[old_stage["event_id"]] = "stage event of an old run"

    base = [r for r in rows if at[r["event_id"]] < cutoff and r["event_id"] not in held]
    late = [r for r in rows if at[r["event_id"]] >= cutoff or r["event_id"] in held]
    random.Random(7).shuffle(late)
    return base, late, held


def _settings_for(mp: pytest.MonkeyPatch, tmp: Path, name: str) -> Settings:
    mp.setenv("COMMAND_CENTER_DUCKDB", str(tmp / name / "command_center.duckdb"))
    return get_settings()


def _land(s: Settings, path: Path, now: datetime) -> None:
    register = load_register(s.register_path)
    with open_warehouse(s.duckdb_path) as con:
        if not con.execute(
            "select count(*) from information_schema.tables where table_schema = 'governance'"
        ).fetchone()[0]:
            land_register(con, register, source_path=str(s.register_path), sha256=register_sha256(s.register_path))
        result = land_file(con, path, register=register, salt=s.redaction_salt, now=now)
    assert result.rows_quarantined == 0, result


def _sort_key(row: tuple) -> str:
    # floats coarsely rounded, so float noise never reorders rows; the comparison itself is _same
    return repr(tuple(round(v, 3) if isinstance(v, float) else v for v in row))


def _same(a: tuple, b: tuple) -> bool:
    """Rows equal, floats within 1e-9 relative (sums of doubles in parallel hash aggregates are not
    bit-for-bit reproducible: the order of addition varies from run to run)."""
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) if isinstance(x, float) and isinstance(y, float) else x == y
        for x, y in zip(a, b, strict=True)
    )


def read_tables(s: Settings) -> dict[str, list[tuple]]:
    """Every compared table: sorted rows (floats rounded to the microsecond, as the marts round)."""
    con = connect(s.duckdb_path, read_only=True)
    try:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]
        tables = [("marts", m) for m in marts if m not in EXCLUDED_MARTS] + INCREMENTAL_TABLES
        out = {}
        for schema, table in tables:
            cur = con.execute(f'select * from "{schema}"."{table}"')
            names = tuple(d[0] for d in cur.description)
            # "_" columns are the marts' incremental bookkeeping (doc mart_build_state): which build
            # wrote the row legitimately differs between the incremental and the from-scratch path;
            # load_id (the landing marts) is a random id each landing draws, so it differs between
            # two warehouses that landed the same files
            keep = [i for i, n in enumerate(names) if not n.startswith("_") and n != "load_id"]
            names = tuple(names[i] for i in keep)
            rows = sorted((tuple(r[i] for i in keep) for r in cur.fetchall()), key=_sort_key)
            out[f"{schema}.{table}"] = [names, *rows]
    finally:
        con.close()
    return out


def _differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> list[str]:
    problems = [f"{t}: only in one warehouse" for t in sorted(set(a) ^ set(b))]
    for t in sorted(set(a) & set(b)):
        if len(a[t]) != len(b[t]) or not all(_same(x, y) for x, y in zip(a[t], b[t], strict=True)):
            pairs = [(x, y) for x, y in zip(a[t], b[t], strict=False) if not _same(x, y)][:3]
            problems.append(f"{t}: {len(a[t]) - 1} vs {len(b[t]) - 1} rows; first differing rows: {pairs}")
    return problems


@pytest.fixture(scope="module")
def built(tmp_path_factory, cc_env):
    """Warehouse `incremental` (base, build, late, incremental build) and `scratch` (both, full refresh)."""
    tmp = tmp_path_factory.mktemp("incremental")
    mp = pytest.MonkeyPatch()
    s = cc_env.apply(mp, tmp)  # tests/conftest.py's environment; each warehouse below sets its own file
    mp.setenv("DBT_TARGET_PATH", str(tmp / "target"))
    mp.setenv("DBT_LOG_PATH", str(tmp / "logs"))
    table = generate_events(days=14, runs_per_day=3, seed=11, end_date=END, defect_rate=0.0,
                            register=load_register(s.register_path))
    base_rows, late_rows, held = split_events(table)
    base_file, late_file = tmp / "base.jsonl", tmp / "late.jsonl"
    write_events(pa.Table.from_pylist(base_rows, schema=table.schema), base_file, "jsonl")
    write_events(pa.Table.from_pylist(late_rows, schema=table.schema), late_file, "jsonl")

    incremental = _settings_for(mp, tmp, "incremental")
    _land(incremental, base_file, BASE_LOADED_AT)
    run_dbt(incremental, ["run"])  # the first build of a fresh warehouse
    before_late = read_tables(incremental)
    _land(incremental, late_file, LATE_LOADED_AT)
    run_dbt(incremental, ["run"])  # incremental: only the runs / exceptions the late file touches
    after_late = read_tables(incremental)

    scratch = _settings_for(mp, tmp, "scratch")
    _land(scratch, base_file, BASE_LOADED_AT)
    _land(scratch, late_file, LATE_LOADED_AT)
    run_dbt(scratch, ["run", "--full-refresh"])

    yield {"incremental": incremental, "scratch": scratch, "held": held, "before_late": before_late,
           "after_late": after_late, "mp": mp}
    mp.undo()


def _scratch_copy_with_a_new_day(built, folder: Path, seed: int) -> tuple[Settings, pa.Table]:
    """A copy of the `scratch` warehouse (base + late, built from scratch) in folder, made the current
    warehouse, with one new generated day (3 runs per workflow, no defects) landed the day after the late file."""
    import shutil

    folder.mkdir()
    db = folder / "command_center.duckdb"
    shutil.copy(built["scratch"].duckdb_path, db)
    built["mp"].setenv("COMMAND_CENTER_DUCKDB", str(db))
    s = get_settings()
    day = generate_events(days=1, runs_per_day=3, seed=seed, end_date=END + timedelta(days=1), defect_rate=0.0,
                          register=load_register(s.register_path))
    day_file = folder / "day.jsonl"
    write_events(day, day_file, "jsonl")
    _land(s, day_file, LATE_LOADED_AT + timedelta(days=1))
    return s, day


def test_late_events_change_the_marts(built):
    """Sanity: the late file matters - the marts moved between the base build and the late build."""
    before, after = built["before_late"], built["after_late"]
    assert len(set(built["held"].values())) == 5
    for table in ("marts.fct_workflow_runs", "marts.fct_exceptions", "marts.agg_workflow_daily",
                  "intermediate.int_runs_summarized", "intermediate.int_exceptions_summarized"):
        assert before[table] != after[table], f"{table} did not change with the late events"


def test_incremental_build_equals_full_refresh_from_scratch(built):
    """Base + late events built incrementally == the same data built from scratch, every mart."""
    incremental = built["after_late"]
    scratch = read_tables(built["scratch"])
    assert len(scratch) >= 14
    assert not _differences(incremental, scratch), "\n".join(_differences(incremental, scratch))


def test_a_new_day_recomputes_only_what_it_touches_and_equals_a_full_refresh(built, tmp_path):
    """The incremental marts on a plain nightly load (one new day, nothing late): the pre_hooks delete
    only the runs, exceptions and periods the day touches (and the as_of period), the older rows keep
    the earlier build's stamp - and the result equals a --full-refresh of the same data."""
    s, day = _scratch_copy_with_a_new_day(built, tmp_path / "nightly", seed=12)
    day_has_exceptions = any(t.startswith("exception_") for t in day.column("event_type").to_pylist())
    run_dbt(s, ["run"])
    nightly = read_tables(s)

    con = connect(s.duckdb_path, read_only=True)
    try:
        (mark,) = con.execute("select max(loaded_at) from raw.workflow_events").fetchone()
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.columns where table_schema = 'marts' "
            "and column_name = '_loaded_through' order by 1").fetchall()]
        assert len(marts) >= 8, marts
        for mart in marts:
            kept, rewritten = con.execute(
                f"select count(*) filter (where _loaded_through < ?), count(*) filter (where _loaded_through = ?) "
                f"from marts.{mart}", [mark, mark]).fetchone()
            # the day's rows were written by this build, and older rows were left alone (two of the
            # three weeks are recomputed: the last build's as_of week and the new day's; the data
            # is one month, so the monthly mart is all rewritten)
            if mart != "fct_exceptions" or day_has_exceptions:
                assert rewritten > 0, (mart, kept, rewritten)
            if mart != "agg_exception_budget_monthly":
                assert kept > 0, (mart, kept, rewritten)
            if mart in ("fct_workflow_runs", "fct_exceptions", "agg_workflow_daily"):
                assert kept > 5 * rewritten, (mart, kept, rewritten)
    finally:
        con.close()

    # an audit at a pinned as_of (two days back), then the next unpinned nightly build: the pinned
    # build rebuilds the incremental marts in full at that instant, the unpinned one rebuilds them
    # again (rows written at a pinned as_of are never kept) - back to exactly the nightly state
    run_dbt(s, ["run", "--vars", '{as_of: "2026-11-21 12:00:00"}'])
    pinned = read_tables(s)
    assert pinned["marts.fct_exceptions"] != nightly["marts.fct_exceptions"]
    run_dbt(s, ["run"])
    unpinned = read_tables(s)
    assert not _differences(nightly, unpinned), "\n".join(_differences(nightly, unpinned))

    run_dbt(s, ["run", "--full-refresh"])
    refreshed = read_tables(s)
    assert not _differences(nightly, refreshed), "\n".join(_differences(nightly, refreshed))


def test_held_back_events_land_in_their_runs_and_exceptions(built):
    """Spot checks of the incremental warehouse: the late run end closes its run, the late resolution
    resolves its exception a week after the raise, the old run is there."""
    con = connect(built["incremental"].duckdb_path, read_only=True)
    try:
        held = built["held"]
        ids = list(held)
        rows = con.execute(
            "select e.event_id, e.event_type, e.workflow_id, e.run_id, e.exception_id from raw.workflow_events e "
            f"where e.event_id in ({', '.join('?' for _ in ids)})", ids
        ).fetchall()
        by_reason = {held[r[0]]: r for r in rows}
        _, _, wf, run, _ = by_reason["run end a day late"]
        assert con.execute(
            "select final_status from marts.fct_workflow_runs where workflow_id = ? and run_id = ?", [wf, run]
        ).fetchone() == ("completed",)
        exception_id = by_reason["exception resolved a week later"][4]
        raised_at, resolved_at, is_open = con.execute(
            "select raised_at, resolved_at, is_open from marts.fct_exceptions where exception_id = ?", [exception_id]
        ).fetchone()
        assert (resolved_at - raised_at, is_open) == (timedelta(days=7), False)
        _, _, wf, run, _ = by_reason["whole run from the first day"]
        assert con.execute(
            "select count(*) from marts.fct_workflow_runs where workflow_id = ? and run_id = ?", [wf, run]
        ).fetchone() == (1,)
    finally:
        con.close()


def test_full_refresh_and_incremental_give_identical_marts(built):
    """On the same data: an incremental re-run with nothing new, then --full-refresh, change nothing."""
    s = built["incremental"]
    built["mp"].setenv("COMMAND_CENTER_DUCKDB", str(s.duckdb_path))
    run_dbt(s, ["run"])
    rerun = read_tables(s)
    assert not _differences(built["after_late"], rerun), "\n".join(_differences(built["after_late"], rerun))
    run_dbt(s, ["run", "--full-refresh"])
    refreshed = read_tables(s)
    assert not _differences(rerun, refreshed), "\n".join(_differences(rerun, refreshed))


def test_retention_purge_incremental_equals_full_refresh(built):
    """Retention deletes the oldest events: the incremental build drops the runs / exceptions that lost
    every event and recomputes those that lost some - the same marts as a full refresh."""
    s = built["incremental"]
    purge_before = datetime(2026, 11, 12)  # a cut through the middle of some runs
    con = connect(s.duckdb_path)
    try:
        assert con.execute("delete from raw.workflow_events where event_ts < ?", [purge_before]).fetchone()[0] > 0
    finally:
        con.close()
    run_dbt(s, ["run"])
    incremental = read_tables(s)
    assert incremental["intermediate.int_runs_summarized"] != built["after_late"]["intermediate.int_runs_summarized"]
    run_dbt(s, ["run", "--full-refresh"])
    refreshed = read_tables(s)
    assert not _differences(incremental, refreshed), "\n".join(_differences(incremental, refreshed))


def test_the_key_marts_anti_join_skips_candidate_keys_still_in_the_table(built, tmp_path):
    """missing_keys_anti_join's guard, driven directly: DuckDB's form restricts the kept keys to the night's
    candidates (the keys landed after the table's mark) and keeps a row only when its key is not among
    them. The pre_hook normally deletes every candidate first, so the guard case - a candidate still in
    the table - never happens in a build. Here the marts' mark is moved back before the late file (its
    runs become candidates) and the pre_hook is skipped: each model's compiled select, run alone, must
    return no key the table holds, and every key it lacks (a new day's runs)."""
    s, day = _scratch_copy_with_a_new_day(built, tmp_path / "guard", seed=13)
    day_runs = {(w, r) for w, r in zip(day.column("workflow_id").to_pylist(), day.column("run_id").to_pylist(),
                                       strict=True)}

    models = {"fct_workflow_runs": "runs", "fct_stage_executions": "stages"}
    # everything upstream of the two marts takes the day in; the marts are left as they were
    run_dbt(s, ["run", "--select", *(f"+{m}" for m in models), "--exclude", *models])
    with open_warehouse(s.duckdb_path) as con:
        late_runs = set(con.execute(
            "select distinct workflow_id, run_id from raw.workflow_events where loaded_at = ?",
            [LATE_LOADED_AT]).fetchall())
        for model in models:
            # the mark before the late file: its runs (all in the table) are candidates again
            con.execute(f"update marts.{model} set _loaded_through = ?", [BASE_LOADED_AT])
    assert late_runs and not late_runs & day_runs

    run_dbt(s, ["compile", "--select", *models])
    target = Path(os.environ["DBT_TARGET_PATH"])
    con = connect(s.duckdb_path, read_only=True)
    try:
        for model, folder in models.items():
            sql = (target / "compiled" / "command_center" / "models" / "marts" / folder / f"{model}.sql").read_text()
            assert "not coalesce(" in sql, f"{model}: not DuckDB's restricted anti-join (no mark read?)"
            got = con.execute(f"select distinct workflow_id, run_id from ({sql}) as selected").fetchall()
            in_table = con.execute(
                f"select count(*) from ({sql}) as selected "
                f"where exists (select 1 from marts.{model} as kept where kept.workflow_id = selected.workflow_id "
                f"and kept.run_id = selected.run_id)").fetchone()[0]
            assert in_table == 0, f"{model}: {in_table} selected rows whose run the table still holds"
            # every run of the day the model's source holds (a run with no stage attempt has no stage rows)
            source = "int_runs_summarized" if model == "fct_workflow_runs" else "int_stage_attempts_summarized"
            expected = set(con.execute(f"select distinct workflow_id, run_id from intermediate.{source}").fetchall())
            expected &= day_runs
            assert expected and set(got) == expected, (model, sorted(set(got) ^ expected)[:5])
            kept_late = con.execute(f"select count(distinct (workflow_id, run_id)) from marts.{model} "
                                    "where (workflow_id, run_id) in (select workflow_id, run_id from raw.workflow_events "
                                    "where loaded_at = ?)", [LATE_LOADED_AT]).fetchone()[0]
            assert kept_late > 0, f"{model}: the late runs are not in the table, so the guard was not exercised"
    finally:
        con.close()
