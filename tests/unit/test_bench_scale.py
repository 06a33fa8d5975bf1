"""Chunked generation and landing of the scale benchmark (orchestration/bench/scale.py), at a tiny size.

The chunks are deterministic for a seed, share out runs_per_day exactly, keep every run (all its
events) in one chunk, have ids unique across chunks, hold about as many runs and events as one
generation of the same size, and land through land_file with nothing lost or quarantined.
"""
from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.bench.scale import (
    chunk_plan,
    chunk_seed,
    generate_chunk,
    scale_markdown,
    scale_rows,
    split_runs,
    step_land_chunks,
)
from orchestration.lib.generator import generate_events

SEED, END, DAYS, RPD = 7, date(2026, 11, 2), 7, 6


def test_split_runs_shares_out_exactly():
    assert split_runs(10, 3) == [4, 3, 3]
    assert split_runs(6, 6) == [1] * 6
    assert sum(split_runs(15_694, 34)) == 15_694
    with pytest.raises(ValueError):
        split_runs(2, 3)


def test_chunk_plan_is_deterministic_with_distinct_seeds():
    plan = chunk_plan(100_000_000, 90, 15_694, 20261102, chunk_events=3_000_000)
    assert plan == chunk_plan(100_000_000, 90, 15_694, 20261102, chunk_events=3_000_000)
    assert len(plan) == 34 and sum(c["runs_per_day"] for c in plan) == 15_694
    seeds = [c["seed"] for c in plan]
    assert len(set(seeds)) == 34 and not {20261102, 20261102 + 1} & set(seeds)
    assert chunk_plan(1000, 28, 2, 1, chunk_events=10) == [  # never more chunks than runs per day
        {"index": 0, "seed": chunk_seed(1, 0), "runs_per_day": 1}, {"index": 1, "seed": chunk_seed(1, 1), "runs_per_day": 1}]


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    d = tmp_path_factory.mktemp("chunks")
    plan = chunk_plan(3 * DAYS * RPD * 70, DAYS, RPD, SEED, chunk_events=DAYS * RPD * 70)
    assert [c["runs_per_day"] for c in plan] == [2, 2, 2]
    out = []
    for c in plan:
        path = d / f"events-{c['index']:03d}.parquet"
        info = generate_chunk(days=DAYS, runs_per_day=c["runs_per_day"], seed=c["seed"], end_date=END, path=path)
        out.append((path, info))
    return out


def test_chunks_are_deterministic(chunks, tmp_path):
    path, _ = chunks[1]
    again = tmp_path / "again.parquet"
    generate_chunk(days=DAYS, runs_per_day=2, seed=chunk_seed(SEED, 1), end_date=END, path=again)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()


def test_runs_whole_and_ids_unique_across_chunks(chunks):
    files = [str(p) for p, _ in chunks]
    con = duckdb.connect()
    con.execute("create table e as select *, filename as chunk from read_parquet(?, filename = true)", [files])
    runs, runs_split, events, event_ids, exc_split = con.execute("""
        select (select count(distinct run_id) from e),
               (select count(*) from (select run_id from e group by run_id having count(distinct chunk) > 1)),
               (select count(*) from e), (select count(distinct event_id) from e),
               (select count(*) from (select exception_id from e where exception_id is not null
                                      group by exception_id having count(distinct chunk) > 1))
    """).fetchone()
    assert runs_split == 0 and exc_split == 0 and event_ids == events
    assert events == sum(i["events"] for _, i in chunks)
    assert runs == sum(i["runs"] for _, i in chunks)
    started = con.execute("select count(distinct run_id) from e where event_type = 'run_started'").fetchone()[0]
    assert started == runs  # no run lost its start to another chunk

    # about as many runs and events as one generation of the same size (Poisson: within 15%)
    single = generate_events(days=DAYS, runs_per_day=RPD, seed=SEED, end_date=END, defect_rate=0.0, fmt="parquet")
    single_runs = len(set(single.column("run_id").to_pylist()))
    assert abs(runs / single_runs - 1) < 0.15 and abs(events / single.num_rows - 1) < 0.15


def test_chunks_land_exactly_once_each(chunks, tmp_path):
    db = tmp_path / "w.duckdb"
    result = step_land_chunks({"db": str(db), "files": [str(p) for p, _ in chunks]})
    total = sum(i["events"] for _, i in chunks)
    assert result["rows_loaded"] == total and result["rows_quarantined"] == 0
    assert result["ledger_rows"] == len(chunks) and len(result["chunk_seconds"]) == len(chunks)
    assert result["max_temp_bytes"] == 0
    con = duckdb.connect(str(db), read_only=True)
    files = con.execute("select count(distinct file_sha256) from raw.load_ledger").fetchone()[0]
    assert files == len(chunks)
    assert sum(pq.ParquetFile(p).metadata.num_rows for p, _ in chunks) == total


def test_ratios_against_10m_by_hand():
    rows = [
        {"step": "ingest", "size": "10M", "events": 10_000_000, "median_s": 40.0, "events_per_s": 250_000,
         "peak_rss_mib": 900.0, "chunks": 4, "max_temp_bytes": 0, "cpu_s": 60.0},
        {"step": "ingest", "size": "30M", "events": 30_000_000, "median_s": 150.0, "events_per_s": 200_000,
         "peak_rss_mib": 1000.0, "chunks": 10, "max_temp_bytes": 2**20, "cpu_s": 200.0},
        {"step": "floor", "size": "30M", "events": 30_000_000, "median_s": 1.0, "events_per_s": 1, "peak_rss_mib": 1.0},
    ]
    got = {(r["step"], r["size"]): r for r in scale_rows(rows)}
    assert set(got) == {("ingest", "10M"), ("ingest", "30M")}
    assert got[("ingest", "30M")]["time_vs_10M"] == 3.75  # 150 / 40
    assert got[("ingest", "30M")]["per_event_vs_10M"] == 1.25  # 3.75 / 3
    assert got[("ingest", "30M")]["cpu_vs_10M"] == 3.33 and got[("ingest", "30M")]["cpu_per_event_vs_10M"] == 1.11
    assert got[("ingest", "10M")]["per_event_vs_10M"] == 1.0
    md = "\n".join(scale_markdown({"rows": rows, "details": {}}))
    assert "| ingest | 30M | 30,000,000 | 10 | 150.0 | 200.0 | 200,000 | 1000 | 1 | 3.75 | 1.25 | 3.33 | 1.11 |" in md
