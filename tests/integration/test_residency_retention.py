"""Residency and retention (issue 13 part 4, docs/residency.md): the register says where the warehouse
runs; rows of an eu_only_processing region landing in a non-EU warehouse are quarantined as
residency_violation; the retention purge deletes exactly the expired rows per region, records them in
its own hash chain, keeps `command-center verify` green (and still catching other deletions) and
leaves the weekly SLO snapshot's history intact."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.lib.landing import land_file
from orchestration.lib.landing.hints import hints_for_result
from orchestration.lib.register import RegisterError, load_register, parse_register
from orchestration.lib.residency import blocked_regions, warehouse_jurisdiction
from orchestration.settings import REPO_ROOT

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SALT = "test-salt"


def register_with(**data_controls):
    """The shipped register with data_controls entries replaced (None: removed)."""
    data = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    for key, value in data_controls.items():
        if value is None:
            data["data_controls"].pop(key, None)
        else:
            data["data_controls"][key] = value
    return parse_register(data)


def event(i, region, **kw) -> dict:
    return {"event_id": f"e{i}", "workflow_id": "fulfillment_v2", "run_id": f"r{i}", "event_type": "stage_completed",
            "event_ts": "2026-11-20T10:00:00Z", "region": region, "attributes": {"customer_email": "a@b.eu"}, **kw}


def write_events(path: Path, records: list[dict]) -> Path:
    fmt = path.suffix.lstrip(".")
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path
    con = duckdb.connect()
    con.execute("create table t (event_id varchar, workflow_id varchar, run_id varchar, event_type varchar, "
                "event_ts varchar, region varchar)")
    con.executemany("insert into t values (?, ?, ?, ?, ?, ?)", [
        [r["event_id"], r["workflow_id"], r["run_id"], r["event_type"], r["event_ts"], r["region"]] for r in records])
    con.execute(f"copy t to '{path}' ({'format parquet' if fmt == 'parquet' else 'header'})")
    con.close()
    return path


# --------------------------------------------------------------------------------------------------
# the register
# --------------------------------------------------------------------------------------------------


def test_shipped_register_declares_an_eu_warehouse():
    register = load_register(REPO_ROOT / "command_center.yml")
    assert warehouse_jurisdiction(register) == "EU" and blocked_regions(register) == []


def test_warehouse_location_rules():
    assert blocked_regions(register_with(warehouse={"region": "us-east-1"})) == ["eu-west-1"]
    assert blocked_regions(register_with(warehouse=None)) == ["eu-west-1"]  # undeclared: not known to be EU
    assert blocked_regions(register_with(warehouse={"jurisdiction": "EU"})) == []
    assert warehouse_jurisdiction(register_with(warehouse={"region": "europe-west4"})) == "EU"
    cases = {
        "jurisdiction 'US' contradicts region 'eu-west-1'": {"region": "eu-west-1", "jurisdiction": "US"},
        "cannot tell the jurisdiction of region 'westeurope'": {"region": "westeurope"},
        "must give region or jurisdiction": {},
    }
    for message, warehouse in cases.items():
        with pytest.raises(RegisterError) as err:
            register_with(warehouse=warehouse)
        assert any(e.startswith("data_controls.warehouse: ") and message in e for e in err.value.errors), err.value.errors


def test_register_error_names_the_line(tmp_path):
    text = (REPO_ROOT / "command_center.yml").read_text().replace(
        "warehouse: { region: eu-west-1 }", "warehouse: { region: eu-west-1, jurisdiction: US }")
    path = tmp_path / "r.yml"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "jurisdiction: US" in t)
    with pytest.raises(RegisterError) as err:
        load_register(path)
    assert any(e.startswith("data_controls.warehouse: ") and f"(line {line})" in e for e in err.value.errors)


# --------------------------------------------------------------------------------------------------
# landing
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def con(tmp_path):
    from orchestration.lib.warehouse import connect

    c = connect(tmp_path / "warehouse.duckdb")
    yield c
    c.close()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_eu_only_rows_are_quarantined_in_a_us_warehouse(tmp_path, con, fmt):
    register = register_with(warehouse={"region": "us-east-1"})
    records = [event(1, "us-east-1"), event(2, "eu-west-1"), event(3, "ap-southeast-2"), event(4, "eu-west-1")]
    path = write_events(tmp_path / f"events.{fmt}", records)
    result = land_file(con, path, register=register, salt=SALT, now=NOW)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    assert result.quarantine_reasons == {"residency_violation": 2}
    assert sorted(r for (r,) in con.execute("select region from raw.workflow_events").fetchall()) == [
        "ap-southeast-2", "us-east-1"]
    rows = con.execute("select source_row_number, reason_code, reason_detail, raw_record, event_id "
                       "from raw.quarantine order by 1").fetchall()
    first = 2 if fmt == "csv" else 1  # CSV rows are numbered by line (the header is line 1)
    assert [(r[0], r[1], r[4]) for r in rows] == [(first + 1, "residency_violation", "e2"),
                                                  (first + 3, "residency_violation", "e4")]
    assert "region eu-west-1 has eu_only_processing" in rows[0][2]
    # the row's content is not kept outside the EU: only its length and salted hash
    assert rows[0][3].startswith("<withheld (residency): ") and "a@b.eu" not in rows[0][3] and "fulfillment" not in rows[0][3]
    read, loaded, quarantined = con.execute(
        "select rows_read, rows_loaded, rows_quarantined from raw.load_ledger").fetchone()
    assert read == loaded + quarantined == 4
    hint = hints_for_result(result)
    assert len(hint) == 1 and "eu_only_processing" in hint[0] and "data_controls.warehouse" in hint[0]


def test_minimal_log_with_an_eu_region_is_quarantined(tmp_path, con):
    register = register_with(warehouse={"jurisdiction": "US"})
    path = tmp_path / "cases.csv"
    path.write_text("case_id,event_name,timestamp,actor\nc1,pick,2026-11-20T10:00:00Z,bot\nc1,ship,2026-11-20T11:00:00Z,bot\n")
    result = land_file(con, path, register=register, salt=SALT, now=NOW, log_format="minimal",
                       workflow="order_to_ship", region="eu-west-1")
    assert (result.rows_loaded, result.quarantine_reasons) == (0, {"residency_violation": 2})


def test_an_eu_warehouse_loads_eu_only_rows(tmp_path, con):
    register = load_register(REPO_ROOT / "command_center.yml")
    path = write_events(tmp_path / "events.jsonl", [event(1, "eu-west-1"), event(2, "us-east-1")])
    result = land_file(con, path, register=register, salt=SALT, now=NOW)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
