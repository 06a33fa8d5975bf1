"""orchestration.bench.landing_profile: the floor and the landing of one small file, every statement timed."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.bench.landing_profile import main


def test_profile_prints_the_floor_the_landing_and_its_statements(tmp_path, capsys):
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({
        "event_id": ["p1", "p2", "p2"], "workflow_id": ["fulfillment_v2"] * 3, "run_id": ["r"] * 3,
        "event_type": ["run_started", "stage_completed", "stage_completed"],
        "event_ts": ["2026-11-20T10:00:00.000Z"] * 3, "region": ["us-east-1"] * 3,
    }), path)
    assert main([str(path), "--work", str(tmp_path / "work"), "--min-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert "read 3, loaded 2, quarantined 1" in out
    assert "landing / floor: wall" in out
    assert "insert into raw.workflow_events" in out
    assert not list((tmp_path / "work").glob("*.duckdb"))  # both files removed
