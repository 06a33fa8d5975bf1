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


def test_shipped_register_declares_an_eu_warehouse(command_center_env, capsys):
    from orchestration.cli import main

    register = load_register(REPO_ROOT / "command_center.yml")
    assert warehouse_jurisdiction(register) == "EU" and blocked_regions(register) == []
    assert main(["register"]) == 0
    assert "warehouse: eu-west-1 / EU (data_controls.warehouse); rows quarantined as residency_violation on " \
        "landing: none" in capsys.readouterr().out


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


# --------------------------------------------------------------------------------------------------
# the retention purge on a small warehouse landed at a pinned time
# --------------------------------------------------------------------------------------------------

SHORT_EU = {"us-east-1": {"pii_masking": True, "retention_days": 365},
            "eu-west-1": {"pii_masking": True, "retention_days": 30, "eu_only_processing": True},
            "ap-southeast-2": {"pii_masking": False, "retention_days": 365}}
PURGE_AS_OF = datetime(2026, 12, 25, tzinfo=UTC)  # eu-west-1 cutoff 2026-11-25, the others 2025-12-25


@pytest.fixture
def small(tmp_path, monkeypatch, cc_env):
    """A warehouse landed at NOW (2026-11-21 12:00): 3 events per region dated 2026-11-20 (and one
    us-east-1 event dated 2026-01-15, inside its 365 days at landing and at the purge), 2 quarantine rows of eu-west-1, 1 of
    us-east-1 and 1 unparseable one (no region: the default retention). Register: eu-west-1 keeps 30 days."""
    settings = cc_env.apply(monkeypatch, tmp_path)
    data = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    data["data_controls"]["residency"] = SHORT_EU
    reg_path = tmp_path / "register.yml"
    reg_path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("COMMAND_CENTER_REGISTER", str(reg_path))
    register = load_register(reg_path)
    records = [json.dumps(event(f"{r}{i}", r)) for r in ("us-east-1", "eu-west-1", "ap-southeast-2") for i in range(3)]
    records += [json.dumps(event("old", "us-east-1", event_ts="2026-01-15T00:00:00Z")),
                json.dumps(event("bad1", "eu-west-1", confidence=7)), json.dumps(event("bad2", "eu-west-1", duration_ms=-1)),
                json.dumps(event("bad3", "us-east-1", confidence=7)), '{"event_id": "x", ']
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(records) + "\n")
    from orchestration.lib.warehouse import connect

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(settings.duckdb_path)
    try:
        result = land_file(con, path, register=register, salt=SALT, now=NOW)
    finally:
        con.close()
    assert (result.rows_loaded, result.rows_quarantined) == (10, 4)
    return settings, register, reg_path


def _counts(db) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        events = dict(con.execute("select region, count(*) from raw.workflow_events group by 1").fetchall())
        quarantine = con.execute("select count(*) from raw.quarantine").fetchone()[0]
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    finally:
        con.close()
    return {"events": events, "quarantine": quarantine, "tables": tables}


def test_dry_run_changes_nothing(small, capsys):
    from orchestration.cli import main

    settings, *_ = small
    before = _counts(settings.duckdb_path)
    assert main(["purge", "--dry-run", "--as-of", PURGE_AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "would delete 3 events and 2 quarantine rows" in out and "dry run: nothing was deleted" in out
    assert _counts(settings.duckdb_path) == before and "retention_purges" not in before["tables"]


def test_purge_deletes_exactly_the_expired_rows_per_region_and_verify_stays_green(small, capsys):
    from orchestration.cli import main
    from orchestration.lib.retention import purges_in_period

    settings, *_ = small
    assert main(["purge", "--as-of", PURGE_AS_OF.isoformat()]) == 0
    after = _counts(settings.duckdb_path)
    # eu-west-1's 3 events and 2 quarantine rows expired (30 days); us-east-1's year-old event did not (365)
    assert after["events"] == {"us-east-1": 4, "ap-southeast-2": 3}
    assert after["quarantine"] == 2
    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    try:
        assert con.execute("select count(*) from raw.quarantine where event_id like 'bad%' and event_id <> 'bad3'"
                           ).fetchone()[0] == 0
        (purge,) = purges_in_period(con, datetime(2000, 1, 1), datetime(2100, 1, 1))
    finally:
        con.close()
    assert (purge["events_purged"], purge["quarantine_purged"], purge["chain_seq"]) == (3, 2, 1)
    assert purge["summary"] == [
        {"region": "eu-west-1", "table": "workflow_events", "retention_days": 30, "cutoff": "2026-11-25 00:00:00",
         "rows": 3, "oldest_ts": "2026-11-20 10:00:00", "newest_ts": "2026-11-20 10:00:00"},
        {"region": "eu-west-1", "table": "quarantine", "retention_days": 30, "cutoff": "2026-11-25 00:00:00",
         "rows": 2, "oldest_ts": "2026-11-21 12:00:00", "newest_ts": "2026-11-21 12:00:00"},
    ]
    capsys.readouterr()
    assert main(["verify"]) == 0, capsys.readouterr().err

    # a second purge deletes nothing more and still chains
    assert main(["purge", "--as-of", PURGE_AS_OF.isoformat()]) == 0
    assert "deleted 0 events and 0 quarantine rows" in capsys.readouterr().out
    assert main(["verify"]) == 0

    # verify still catches a deletion the purge did not record...
    con = duckdb.connect(str(settings.duckdb_path))
    con.execute("delete from raw.workflow_events where event_id = 'eus-east-10'")
    con.close()
    capsys.readouterr()
    assert main(["verify"]) == 1
    assert "count: the ledger says 10 events" in capsys.readouterr().err


def test_verify_catches_a_purge_record_edited_or_deleted(small, capsys):
    from orchestration.cli import main

    settings, *_ = small
    assert main(["purge", "--as-of", PURGE_AS_OF.isoformat()]) == 0
    db = str(settings.duckdb_path)
    con = duckdb.connect(db)
    con.execute("update raw.retention_purged_loads set rows_purged = rows_purged + 1 where table_name = 'workflow_events'")
    con.close()
    capsys.readouterr()
    assert main(["verify"]) == 1
    err = capsys.readouterr().err
    assert "differ from what the purge recorded" in err
    con = duckdb.connect(db)
    con.execute("update raw.retention_purged_loads set rows_purged = rows_purged - 1 where table_name = 'workflow_events'")
    con.execute("update raw.retention_purges set events_purged = 0")
    con.close()
    assert main(["verify"]) == 1
    err = capsys.readouterr().err
    assert "retention purge chain, entry seq 1" in err and "hash_mismatch" in err
    con = duckdb.connect(db)
    con.execute("delete from raw.retention_purges")
    con.execute("delete from raw.retention_purged_loads")
    con.close()
    capsys.readouterr()
    assert main(["verify"]) == 1  # the purged rows are unexplained again
    assert "count: the ledger says 10 events, raw holds 7" in capsys.readouterr().err


def test_the_dagster_job_runs_in_process_and_the_evidence_pack_lists_the_purge(small, tmp_path):
    import csv

    import dagster as dg

    from orchestration.defs.resources import LandingResource, WarehouseResource
    from orchestration.defs.retention import retention_purge_job
    from orchestration.lib.audit.evidence import write_evidence_pack

    settings, register, reg_path = small
    assert retention_purge_job.executor_def is dg.in_process_executor
    resources = {"warehouse": WarehouseResource(duckdb_path=str(settings.duckdb_path)),
                 "landing": LandingResource(register_path=str(reg_path))}
    # rebuild false: this small warehouse has no register landed, so no dbt build (the shared-warehouse test builds)
    config = {"ops": {"retention_purge": {"config": {"as_of": PURGE_AS_OF.isoformat(), "rebuild": False}}}}
    result = retention_purge_job.execute_in_process(resources=resources, run_config=config)
    assert result.success
    assert _counts(settings.duckdb_path)["events"] == {"us-east-1": 4, "ap-southeast-2": 3}

    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    purged_at, run_id = con.execute("select purged_at, purge_run_id from raw.retention_purges").fetchone()
    con.close()
    assert run_id == result.run_id
    out = tmp_path / "pack"
    verification = write_evidence_pack(period=f"{purged_at:%Y-%m}", out=out, duckdb_path=settings.duckdb_path,
                                       register=register, register_path=reg_path)
    assert verification.intact
    rows = list(csv.DictReader((out / "retention_purges.csv").open()))
    assert [(r["region"], r["table_name"], r["rows_deleted"]) for r in rows] == [
        ("eu-west-1", "workflow_events", "3"), ("eu-west-1", "quarantine", "2")]
    assert json.loads((out / "retention.json").read_text())["purges"][0]["events_deleted"] == 3
    summary = (out / "summary.md").read_text()
    assert "## Retention purges" in summary and "retention purges (what was deleted" not in summary


# --------------------------------------------------------------------------------------------------
# PII masking per region (docs/rbac.md)
# --------------------------------------------------------------------------------------------------


def test_person_fields_masked_per_region_as_declared():
    from orchestration.lib.rbac.duckdb_views import create_governed_views, mart_columns
    from orchestration.lib.rbac.policy import MASK, RbacSpec

    register = register_with(residency=SHORT_EU)  # ap-southeast-2 declares pii_masking: false
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.fct_runs (workflow_id varchar, region varchar, owner varchar)")
    con.execute("insert into marts.fct_runs values ('fulfillment_v2', 'ap-southeast-2', 'a@x.com'), "
                "('fulfillment_v2', 'us-east-1', 'b@x.com'), ('fulfillment_v2', 'mars-1', 'c@x.com')")
    con.execute("create table marts.dim_owners (workflow_id varchar, owner varchar)")
    con.execute("insert into marts.dim_owners values ('fulfillment_v2', 'a@x.com')")
    unmasked = [r for r, c in register.data_controls.residency.items() if not c.pii_masking]
    create_governed_views(con, "memory", RbacSpec.from_register(register),
                          mart_columns(con, "memory", ["fct_runs", "dim_owners"]), unmasked=unmasked)
    assert con.execute("select region, owner from governed_ops_controller.fct_runs order by 1").fetchall() == [
        ("ap-southeast-2", "a@x.com"), ("mars-1", MASK), ("us-east-1", MASK)]
    assert con.execute("select owner from governed_ops_controller.dim_owners").fetchall() == [(MASK,)]


# --------------------------------------------------------------------------------------------------
# a purge of the shared warehouse, then the full-refresh build: history kept, gates green
# --------------------------------------------------------------------------------------------------


def test_purge_and_rebuild_keep_the_slo_snapshot_history(shared_warehouse_copy, tmp_path, monkeypatch, capsys):
    """eu-west-1 keeps 30 days: as of 2026-12-05 its runs with an event before 2026-11-05 go (whole runs);
    the other regions keep 365 days (nothing goes). The Dagster job purges and rebuilds (full refresh):
    the build's gates pass (ledger, log completeness), past SLO snapshot weeks are unchanged, verify is intact."""
    from orchestration.cli import main
    from orchestration.defs.resources import LandingResource, WarehouseResource
    from orchestration.defs.retention import retention_purge_job

    settings = shared_warehouse_copy
    data = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    data["data_controls"]["residency"]["eu-west-1"]["retention_days"] = 30
    reg_path = tmp_path / "register.yml"
    reg_path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("COMMAND_CENTER_REGISTER", str(reg_path))
    db = str(settings.duckdb_path)
    query = "select * exclude (snapshotted_at) from marts.fct_slo_weekly_snapshot where week_start < ? order by all"
    con = duckdb.connect(db, read_only=True)
    history = con.execute(query, ["2026-11-16"]).fetchall()
    before = dict(con.execute("select region, count(*) from raw.workflow_events group by 1").fetchall())
    expired = con.execute("""select count(*) from raw.workflow_events where (workflow_id, run_id) in (
        select workflow_id, run_id from raw.workflow_events where region = 'eu-west-1' and event_ts < '2026-11-05')""").fetchone()[0]
    con.close()
    assert history and expired > 0

    result = retention_purge_job.execute_in_process(
        resources={"warehouse": WarehouseResource(duckdb_path=db), "landing": LandingResource(register_path=str(reg_path))},
        run_config={"ops": {"retention_purge": {"config": {"as_of": "2026-12-05T00:00:00Z"}}}},
    )
    assert result.success
    con = duckdb.connect(db, read_only=True)
    after = dict(con.execute("select region, count(*) from raw.workflow_events group by 1").fetchall())
    assert after == {**before, "eu-west-1": before["eu-west-1"] - expired}
    assert con.execute("select min(event_ts) from raw.workflow_events where region = 'eu-west-1'").fetchone()[0] >= datetime(2026, 11, 5)
    # week 2026-11-02 lost raw events and keeps its rows (outside the build's lookback); 2026-11-09 (in the
    # lookback, recomputed) lost none; 2026-11-16, the as_of week, is recomputed by every build
    assert con.execute(query, ["2026-11-16"]).fetchall() == history
    assert con.execute("select rebuilt_at is not null from raw.retention_purges").fetchall() == [(True,)]
    assert con.execute("select count(*) from intermediate.int_load_ledger_mismatches").fetchone()[0] == 0
    con.close()
    capsys.readouterr()
    assert main(["verify"]) == 0, capsys.readouterr().err
    assert main(["build", "--select", "dim_as_of"]) == 0  # nothing pending: a plain build stays incremental
    assert "full refresh" not in capsys.readouterr().out
