"""The landing's cheaper spellings of its rules give the same answers as the rules' plain spellings
(docs/benchmarks.md, "Landing"): the control-character GLOB against the regexp, the timestamp fast
path (FAST_ISO_GLOBS) against the full ISO 8601 rules, and landing's fingerprint spelling against
contract.LOADED_ROW_FINGERPRINT_SQL (which dbt's loaded_row_fingerprint mirrors)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from orchestration.lib.contract import (
    FINGERPRINTED_COLUMNS,
    LOADED_ROW_FINGERPRINT_LANDING_SQL,
    LOADED_ROW_FINGERPRINT_SQL,
    RAW_EVENTS_DDL,
)
from orchestration.lib.landing import timestamps
from orchestration.lib.landing.timestamps import parse_passed_sql, parse_sql
from orchestration.lib.landing.validation import CONTROL_CHAR_GLOB


@pytest.fixture()
def con():
    c = duckdb.connect()
    c.execute("set TimeZone = 'UTC'")
    yield c
    c.close()


def _values_table(con, values: list[str | None]) -> None:
    con.register("v_arrow", pa.table({"v": pa.array(values, pa.string())}))
    con.execute("create or replace temp table v as select * from v_arrow")


def test_control_character_glob_is_the_regexp(con):
    rng = random.Random(1)
    alphabet = [chr(i) for i in range(0, 160)] + list("[]*?\\-!^{}") + ["é", "€", "😀", "\u2028", "\ufeff"]
    values = ["".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 2, 5, 30]))) for _ in range(50_000)]
    values += [c for i in range(160) for c in (chr(i), f"ab{chr(i)}", f"{chr(i)}ab", f"a{chr(i)}b")] + [None]
    _values_table(con, values)
    differ, flagged = con.execute(
        f"""select count(*) filter (where (v glob {CONTROL_CHAR_GLOB}) is distinct from regexp_matches(v, '[\\x00-\\x1f\\x7f]')),
                   count(*) filter (where v glob {CONTROL_CHAR_GLOB}) from v""").fetchone()
    assert differ == 0
    assert flagged > 10_000  # both answers occur


def _timestamp_values() -> list[str | None]:
    rng = random.Random(2)

    def digits(n: int) -> str:
        return "".join(str(rng.randint(0, 9)) for _ in range(n))

    values: list[str | None] = []
    for _ in range(20_000):  # the fast shapes, valid and invalid dates and times
        date = f"{rng.choice([digits(4), '2026', '0000', '9999'])}-{rng.choice([digits(2), '02', '12', '13'])}-" \
               f"{rng.choice([digits(2), '28', '29', '30', '31', '00'])}"
        time = f"{rng.choice([digits(2), '23', '24'])}:{rng.choice([digits(2), '59', '60'])}:{rng.choice([digits(2), '59', '60'])}"
        values.append(f"{date}T{time}{rng.choice(['', '.' + digits(3), '.' + digits(6)])}Z")
    start = datetime(1, 1, 1)
    for _ in range(20_000):  # real instants in the fast shapes and in their near misses
        x = start + timedelta(seconds=rng.randint(0, 315_537_897_599), microseconds=rng.randint(0, 999_999))
        base = f"{x.year:04d}-{x.month:02d}-{x.day:02d}T{x:%H:%M:%S}"
        fraction = rng.choice(["", f".{x.microsecond:06d}"[:4], f".{x.microsecond:06d}", f".{x.microsecond:06d}"[:2],
                               f".{x.microsecond:06d}000"])
        offset = rng.choice(["Z", "Z", "z", "+02:00", "-0530", "+14:01", "+24:00", "", " Z", "\tZ", "Z ", "+02"])
        lead = rng.choice(["", "", " ", "\t"])
        values.append(lead + (base.replace("T", rng.choice(["T", "T", "t", " "])) + fraction + offset))
    return values + [None, "", "not a time", "2026-11-20", "2026-11-20T10:00Z"]


@pytest.mark.parametrize("timezone", [None, "Europe/Berlin"])
def test_timestamp_fast_path_is_the_full_rules(con, monkeypatch, timezone):
    _values_table(con, _timestamp_values())
    params = {"timezone": timezone} if timezone else {}
    fast, passed = parse_sql("v", timezone=timezone), parse_passed_sql("v", timezone=timezone)
    shapes = " or ".join(f"v glob '{g}'" for g in timestamps.FAST_ISO_GLOBS)
    monkeypatch.setattr(timestamps, "FAST_ISO_GLOBS", ())
    full, full_passed = parse_sql("v", timezone=timezone), parse_passed_sql("v", timezone=timezone)
    assert "glob" in fast and "glob" not in full
    differ, differ_passed, parsed, shortcut = con.execute(
        f"""select count(*) filter (where ({fast}) is distinct from ({full})),
                   count(*) filter (where ({full}) is not null and ({passed}) is distinct from ({full_passed})),
                   count({full}),
                   count(*) filter (where {shapes})
            from v""", params).fetchone()
    assert differ == 0 and differ_passed == 0
    assert parsed > 10_000 and shortcut > 10_000  # both roads are taken often


def test_landing_fingerprint_spelling_is_the_contract_one(con):
    con.execute("create schema raw")
    con.execute(RAW_EVENTS_DDL)
    con.execute(
        """insert into raw.workflow_events
        select 'e' || i, 'w', 'r' || (i % 7), 'stage_completed', timestamp '2026-11-20 10:00:00' + to_seconds(i),
               'us-east-1', case when i % 2 = 0 then 'pick' end, null, case when i % 3 = 0 then 'o@x' end,
               case when i % 5 = 0 then i * 1000 end, case when i % 4 = 0 then i / 3 end,
               case when i % 6 = 0 then 0.25 end, null, null, case when i % 8 = 0 then 2 end,
               'a' || chr(31) || 'b', 1, null, case when i % 9 = 0 then '{"k": "v"}'::json end,
               'telemetry', null, 'load', 'f.parquet', i, timestamp '2026-12-01 00:00:00'
        from range(2000) t(i)"""
    )
    assert set(FINGERPRINTED_COLUMNS) <= {r[0] for r in con.execute("describe raw.workflow_events").fetchall()}
    differ, total, total_landing = con.execute(
        f"""select count(*) filter (where {LOADED_ROW_FINGERPRINT_SQL} <> {LOADED_ROW_FINGERPRINT_LANDING_SQL}),
                   sum({LOADED_ROW_FINGERPRINT_SQL}), sum({LOADED_ROW_FINGERPRINT_LANDING_SQL})
            from raw.workflow_events"""
    ).fetchone()
    assert differ == 0 and total == total_landing
