"""The benchmark as a smoke test (CI size): `python -m orchestration.bench` at ~20k events, one
repetition, exits 0, writes the table with every step and passes the equality check (floor,
pandas and polars outputs equal the marts). The real numbers come from `make bench` (docs/benchmarks.md)."""
from __future__ import annotations

import json
import subprocess
import sys

from orchestration.bench.runner import STEPS
from orchestration.settings import REPO_ROOT


def test_bench_runs_at_a_tiny_size(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.bench", "--sizes", "20k", "--reps", "1", "--out", str(out)],
        # a guard against a hang, not a speed check: `make test` runs two workers on two cores, and the
        # benchmark's dbt steps then share the machine (300 s timed out on a loaded machine)
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    result = json.loads((out / "results.json").read_text())
    assert result["failures"] == []
    assert {r["step"] for r in result["rows"]} == set(STEPS)
    for row in result["rows"]:
        assert row["size"] == "20k" and row["median_s"] > 0 and row["peak_rss_mib"] > 0
    equality = result["details"]["20k"]["equality"]
    assert set(equality) == {"floor", "pandas", "polars"}
    for report in equality.values():
        assert set(report) == {"runs", "weekly", "exception_ttr", "monthly"}
        assert all(r["ok"] and r["mart_rows"] > 0 for r in report.values())

    # the nightly build's SQL time, read from its own dbt debug log (dbt_sql_seconds): positive, and less
    # than the nightly build's wall time times its two threads
    nightly = next(r for r in result["rows"] if r["step"] == "incremental_build")
    assert 0 < nightly["sql_median_s"] < 2 * nightly["median_s"], nightly

    table = (out / "results.md").read_text()
    for step in STEPS:
        assert f"| {step} | 20k |" in table
    assert "Status: PASSED" in table
    assert not (out / "work").exists() or not any((out / "work").iterdir())
