"""The benchmark's SQL time of a dbt invocation (orchestration/bench/runner.py dbt_sql_seconds): the sum of
the "SQL status" times in its debug log and the files the log rotated to; None without a log."""
from __future__ import annotations

from orchestration.bench.runner import dbt_sql_seconds


def test_sums_every_statement_across_rotated_logs(tmp_path):
    (tmp_path / "dbt.log.1").write_text(
        "\x1b[0m15:09:01.1 [debug] [Thread-1 (]: SQL status: OK in 0.250 seconds\n"
        "\x1b[0m15:09:01.2 [debug] [Thread-2 (]: On model.x: select 1\n"
        "\x1b[0m15:09:01.3 [debug] [Thread-2 (]: SQL status: OK in 1.5 seconds\n"
    )
    (tmp_path / "dbt.log").write_text(
        "\x1b[0m15:09:02.0 [debug] [MainThread]: SQL status: OK in 0.000 seconds\n"
        "\x1b[0m15:09:02.1 [debug] [Thread-1 (]: SQL status: OK in 2 seconds\n"
        "\x1b[0m15:09:02.2 [info ] [Thread-1 (]: 1 of 2 OK created sql table model x ... [OK in 3.00s]\n"
    )
    assert dbt_sql_seconds(tmp_path) == 3.75  # 0.25 + 1.5 + 0 + 2; the node's own "OK in 3.00s" is not a statement


def test_no_log_is_none(tmp_path):
    assert dbt_sql_seconds(tmp_path) is None
