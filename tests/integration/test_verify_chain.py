"""Tamper evidence (docs/tamper-evidence.md): the load ledger's hash chain, written by real landings
through the CLI (a single JSON Lines file, a CSV file, a group of small JSON Lines files), and
`command-center verify` naming the first break of each kind of tampering on a copy of the warehouse."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.contract import RAW_DDL

END = "2026-11-20"


@pytest.fixture(scope="module")
def landed(tmp_path_factory, cc_env) -> Path:
    """A warehouse with five chained entries: a.jsonl (seq 1), b.csv (2), small/s1..s3.jsonl (3..5, one group)."""
    root = tmp_path_factory.mktemp("chain")
    mp = pytest.MonkeyPatch()
    try:
        settings = cc_env.apply(mp, root)
        small = root / "small"
        small.mkdir()
        assert main(["generate", "--days", "3", "--runs-per-day", "4", "--end-date", END, "--out", str(root / "a.jsonl")]) == 0
        assert main(["generate", "--days", "3", "--runs-per-day", "4", "--seed", "8", "--end-date", END,
                     "--out", str(root / "b.csv")]) == 0
        for i in (1, 2, 3):
            assert main(["generate", "--days", "1", "--runs-per-day", "1", "--seed", str(10 + i),
                         "--end-date", f"2026-11-1{i}", "--out", str(small / f"s{i}.jsonl")]) == 0
        assert main(["ingest", str(root / "a.jsonl"), str(root / "b.csv"), str(small)]) == 0
    finally:
        mp.undo()
    return settings.duckdb_path


def _copy(db: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy.duckdb"
    shutil.copy(db, out)
    return out


def _tamper(db: Path, *sql: str) -> None:
    con = duckdb.connect(str(db))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()


def _load_of(db: Path, seq: int) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select load_id from raw.load_ledger where chain_seq = ?", [seq]).fetchone()[0]
    finally:
        con.close()


def _verify(db: Path, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["verify", "--duckdb", str(db), "--json", *extra])
    return rc, json.loads(capsys.readouterr().out)


def test_landing_chains_every_path_and_an_untouched_warehouse_verifies(landed, tmp_path, capsys):
    con = duckdb.connect(str(landed), read_only=True)
    rows = con.execute(
        "select chain_seq, chain_origin, prev_hash, entry_hash, file_path, loaded_at from raw.load_ledger order by chain_seq"
    ).fetchall()
    con.close()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert {r[1] for r in rows} == {"landing"}
    assert rows[0][2] == "0" * 64
    assert all(rows[i][2] == rows[i - 1][3] for i in range(1, 5))
    assert [Path(r[4]).name for r in rows] == ["a.jsonl", "b.csv", "s1.jsonl", "s2.jsonl", "s3.jsonl"]
    assert len({r[5] for r in rows[2:]}) == 1  # the small files landed as one group (one landing instant)

    rc, out = _verify(_copy(landed, tmp_path), capsys)
    assert rc == 0 and out["intact"] and out["first_break"] is None
    assert out["entries"] == out["chained"] == out["chained_at_landing"] == 5
    assert out["head"] == {"seq": 5, "entry_hash": rows[-1][3]}
    assert out["events_checked"] > 0 and out["quarantine_rows_checked"] > 0
    rc, out = _verify(_copy(landed, tmp_path), capsys, "--expect-head", rows[-1][3])
    assert rc == 0


TAMPERING = {
    # name: (statements with {load} = the load_id of entry seq 2, expected first break kind, its seq)
    "edit a raw row (cost_cents)": (
        ["update raw.workflow_events set cost_cents = coalesce(cost_cents, 0) + 1 "
         "where rowid = (select min(rowid) from raw.workflow_events where load_id = '{load}')"], "content", 2),
    "delete a raw row": (
        ["delete from raw.workflow_events where rowid = (select max(rowid) from raw.workflow_events "
         "where load_id = '{load}')"], "count", 2),
    "insert a raw row": (
        ["insert into raw.workflow_events select * replace (event_id || '-forged' as event_id) "
         "from raw.workflow_events where load_id = '{load}' limit 1"], "count", 2),
    "edit a ledger entry's count": (
        ["update raw.load_ledger set rows_loaded = rows_loaded - 1, rows_read = rows_read - 1 "
         "where load_id = '{load}'"], "hash_mismatch", 2),
    "edit a quarantine row": (
        ["update raw.quarantine set reason_detail = 'nothing to see' "
         "where rowid = (select min(rowid) from raw.quarantine where load_id = '{load}')"], "quarantine_content", 2),
    "delete a quarantine row": (
        ["delete from raw.quarantine where rowid = (select min(rowid) from raw.quarantine where load_id = '{load}')"],
        "quarantine_count", 2),
    "delete a ledger entry": (["delete from raw.load_ledger where load_id = '{load}'"], "missing_entry", 3),
    "reorder two ledger entries (swap sequence numbers)": (
        ["update raw.load_ledger set chain_seq = 99 where chain_seq = 2",
         "update raw.load_ledger set chain_seq = 2 where chain_seq = 3",
         "update raw.load_ledger set chain_seq = 3 where chain_seq = 99"], "reordered", 2),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_the_first_break(case, landed, tmp_path, capsys):
    db = _copy(landed, tmp_path)
    statements, kind, seq = TAMPERING[case]
    load = _load_of(db, 2)
    _tamper(db, *(s.format(load=load) for s in statements))
    rc, out = _verify(db, capsys)
    assert rc == 1 and not out["intact"]
    first = out["first_break"]
    assert (first["kind"], first["seq"]) == (kind, seq), out["breaks"]
    if case == "delete a ledger entry":
        assert "entry seq 2 is missing" in first["detail"]
        assert any(b["kind"] == "orphan_rows" and b["key"] == load for b in out["breaks"])
    elif case.startswith("reorder"):
        assert "it was seq 3" in first["detail"]
    else:
        assert first["key"] == load and first["label"].endswith("b.csv")


def test_verify_prints_one_error_line_per_break(landed, tmp_path, capsys):
    db = _copy(landed, tmp_path)
    load = _load_of(db, 4)
    _tamper(db, f"update raw.load_ledger set rows_loaded = rows_loaded + 1, rows_read = rows_read + 1 where load_id = '{load}'")
    capsys.readouterr()
    assert main(["verify", "--duckdb", str(db)]) == 1
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert errors[0].startswith("error: load_ledger chain broken at entry seq 4 (") and "hash_mismatch" in errors[0]
    assert errors[1].startswith("error: ") and ": count: the ledger says" in errors[1]
    assert len(errors) == 2 and "BROKEN: 2 break(s)" in captured.out


def test_deleting_the_newest_entry_needs_the_kept_head(landed, tmp_path, capsys):
    db = _copy(landed, tmp_path)
    rc, out = _verify(db, capsys)
    head = out["head"]["entry_hash"]
    _tamper(db, "delete from raw.load_ledger where chain_seq = 5")
    rc, out = _verify(db, capsys, "--expect-head", head)
    assert rc == 1
    kinds = [b["kind"] for b in out["breaks"]]
    assert "head_mismatch" in kinds and "orphan_rows" in kinds


def test_a_ledger_from_before_the_chain_migrates_then_verifies(landed, tmp_path, capsys, cc_env):
    """A warehouse landed before tamper evidence: its ledger has no chain columns (and one entry no
    fingerprint). verify chains it once, as it is, and verifies; tampering after that is caught;
    the next landing continues the chain."""
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    for ddl in RAW_DDL:  # the raw schema without the chain (ensure_raw_schema would add it)
        con.execute(ddl)
    con.execute(f"attach '{landed}' as src (read_only)")
    con.execute("insert into raw.workflow_events select * from src.raw.workflow_events")
    con.execute("insert into raw.quarantine select * from src.raw.quarantine")
    legacy = [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_catalog = 'old' and table_schema = 'raw' "
        "and table_name = 'load_ledger' order by ordinal_position").fetchall()]
    assert "chain_seq" not in legacy
    con.execute(f"insert into raw.load_ledger ({', '.join(legacy)}) select {', '.join(legacy)} from src.raw.load_ledger")
    con.execute("update raw.load_ledger set loaded_fingerprint = null where file_path like '%a.jsonl'")
    con.close()

    capsys.readouterr()
    assert main(["verify", "--duckdb", str(old)]) == 0
    assert "migrated: the ledger had no hash chain; its 5 entries were chained now" in capsys.readouterr().out
    rc, out = _verify(old, capsys)
    assert rc == 0 and out["chained_at_migration"] == 5 and out["migrated_now"] == 0

    mp = pytest.MonkeyPatch()
    try:
        cc_env.apply(mp, tmp_path / "env", duckdb=old)
        more = tmp_path / "more.jsonl"
        assert main(["generate", "--days", "1", "--runs-per-day", "2", "--seed", "99", "--end-date", END,
                     "--out", str(more)]) == 0
        assert main(["ingest", str(more)]) == 0
    finally:
        mp.undo()
    rc, out = _verify(old, capsys)
    assert rc == 0 and out["chained_at_landing"] == 1 and out["head"]["seq"] == 6

    con = duckdb.connect(str(old), read_only=True)
    assert con.execute("select loaded_fingerprint from raw.load_ledger where chain_seq = 1").fetchone() == (None,)
    con.close()
    def edit_an_event(seq: int) -> None:
        _tamper(old, f"update raw.workflow_events set cost_cents = coalesce(cost_cents, 0) + 5 "
                     f"where rowid = (select min(rowid) from raw.workflow_events where load_id = '{_load_of(old, seq)}')")

    edit_an_event(1)  # a.jsonl had no events' fingerprint before migration: its events get the count check only
    assert _verify(old, capsys)[0] == 0
    edit_an_event(2)
    rc, out = _verify(old, capsys)
    assert rc == 1 and (out["first_break"]["kind"], out["first_break"]["seq"]) == ("content", 2)
    _tamper(old, f"delete from raw.workflow_events where rowid = (select min(rowid) from raw.workflow_events "
                 f"where load_id = '{_load_of(old, 1)}')")
    rc, out = _verify(old, capsys)
    assert (out["first_break"]["kind"], out["first_break"]["seq"]) == ("count", 1)



def test_evidence_pack_is_written_and_its_manifest_checks_out(landed, tmp_path, capsys):
    import csv
    import hashlib
    import subprocess

    db, out = _copy(landed, tmp_path), tmp_path / "pack"
    con = duckdb.connect(str(db))
    period = con.execute("select strftime(min(loaded_at), '%Y-%m') from raw.load_ledger").fetchone()[0]
    con.close()
    capsys.readouterr()
    assert main(["evidence", "--period", period, "--out", str(out), "--duckdb", str(db)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["MANIFEST.sha256", "approval_compliance.csv", "chain_verification.json", "governance_compliance.json",
                     "governance_log.csv", "governance_violations.csv", "landing_ledger.csv", "rbac_map.csv",
                     "residency_map.csv", "retention.json", "retention_purges.csv", "summary.md"]
    manifest = (out / "MANIFEST.sha256").read_text().splitlines()
    assert len(manifest) == 11
    for line in manifest:  # the `sha256sum -c` format: hash, two spaces, name
        digest, name = line.split("  ")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], check=False, cwd=out).returncode == 0

    ledger = list(csv.DictReader((out / "landing_ledger.csv").open()))
    assert [int(r["chain_seq"]) for r in ledger] == [1, 2, 3, 4, 5]
    assert all(r["landed_by_user"] and r["landed_on_host"] and r["entry_hash"] for r in ledger)
    rbac = list(csv.DictReader((out / "rbac_map.csv").open()))
    assert {"principal_type": "group", "principal": "CIO-change-advisory", "role": "change_authority",
            "permission": "approve_high_risk", "scope": "*"} in rbac
    residency = list(csv.DictReader((out / "residency_map.csv").open()))
    assert any(r["region"] == "eu-west-1" and r["eu_only_processing"] == "True" for r in residency)
    assert json.loads((out / "chain_verification.json").read_text())["intact"] is True
    summary = (out / "summary.md").read_text()
    assert "**INTACT**" in summary and "## Not yet covered" not in summary and "## Governance log extract" in summary
    assert "governed views" in summary and "row access policy" in summary  # the RBAC text covers both engines

    # a pack is written to a new folder only
    capsys.readouterr()
    assert main(["evidence", "--period", period, "--out", str(out), "--duckdb", str(db)]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["evidence", "--period", "2026-13", "--out", str(tmp_path / "x"), "--duckdb", str(db)]) == 1


def test_evidence_pack_of_a_tampered_warehouse_says_so(landed, tmp_path, capsys):
    db, out = _copy(landed, tmp_path), tmp_path / "pack"
    _tamper(db, f"update raw.workflow_events set cost_cents = coalesce(cost_cents, 0) * 1000 + 1 "
                f"where load_id = '{_load_of(db, 3)}'")
    con = duckdb.connect(str(db))
    period = con.execute("select strftime(min(loaded_at), '%Y-%m') from raw.load_ledger").fetchone()[0]
    con.close()
    capsys.readouterr()
    assert main(["evidence", "--period", period, "--out", str(out), "--duckdb", str(db)]) == 1
    verification = json.loads((out / "chain_verification.json").read_text())
    assert not verification["intact"]
    assert (verification["first_break"]["kind"], verification["first_break"]["seq"]) == ("content", 3)
    summary = (out / "summary.md").read_text()
    assert "**BROKEN**" in summary and "entry seq 3" in summary


def test_entry_hash_is_the_documented_canonical_serialization():
    """docs/tamper-evidence.md: sha256 of 'command_center:<chain>:v1\\n' + compact JSON [[field, value]...,
    ["chain_seq", n], ["prev_hash", h]]; numbers as text, timestamps with microseconds, null as null."""
    import hashlib
    from datetime import datetime
    from decimal import Decimal

    from orchestration.lib.audit.chain import GENESIS, ChainSpec, entry_hash

    spec = ChainSpec(name="t", table="raw.t", key="k", fields=("k", "n", "ts", "fp", "who"), order_by="k")
    row = {"k": "a", "n": 3, "ts": datetime(2026, 11, 2, 9, 30), "fp": Decimal("123456789012345678901"), "who": None}
    text = ('command_center:t:v1\n[["k","a"],["n","3"],["ts","2026-11-02 09:30:00.000000"],'
            '["fp","123456789012345678901"],["who",null],["chain_seq","1"],["prev_hash","' + "0" * 64 + '"]]')
    assert entry_hash(spec, row, 1, GENESIS) == hashlib.sha256(text.encode()).hexdigest()


def test_verify_entries_on_hand_made_rows():
    """The breaks the landing tests cannot make by editing one table: a sequence used twice, a
    prev_hash that is no entry's hash, an entry outside the chain."""
    from orchestration.lib.audit.chain import GENESIS, ChainSpec, entry_hash, verify_entries

    spec = ChainSpec(name="t", table="raw.t", key="k", fields=("k",), order_by="k")
    rows, prev = [], GENESIS
    for seq, k in enumerate("abcd", start=1):
        digest = entry_hash(spec, {"k": k}, seq, prev)
        rows.append({"k": k, "chain_seq": seq, "prev_hash": prev, "entry_hash": digest})
        prev = digest
    assert verify_entries(spec, rows).breaks == []
    rows[2]["chain_seq"] = 2  # c reuses b's sequence
    kinds = [(b.kind, b.key) for b in verify_entries(spec, rows).breaks]
    assert ("duplicate_seq", "c") in kinds or ("duplicate_seq", "b") in kinds
    rows[2]["chain_seq"] = 3
    rows[3]["prev_hash"] = "f" * 64  # d's link rewritten (and so its hash no longer matches)
    assert [(b.kind, b.seq) for b in verify_entries(spec, rows).breaks] == [("link_broken", 4), ("hash_mismatch", 4)]
    rows[3]["prev_hash"] = rows[2]["entry_hash"]
    rows.append({"k": "e", "chain_seq": None, "prev_hash": None, "entry_hash": None})
    assert [(b.kind, b.key) for b in verify_entries(spec, rows).breaks] == [("unchained", "e")]
