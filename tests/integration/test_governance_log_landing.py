"""The governance log, a third input shape (docs/governance-log.md): each bad row quarantined with its
reason, counts conserved, exactly once, the prompt never in clear unless the register allows it,
`command-center verify` over raw.governance_actions, the landing-folder convention, JSON Lines / CSV /
Parquet alike, and the generated log's planted violations."""
from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.lib.generator import generate_events
from orchestration.lib.generator.governance_log import (
    BAD_ROW_REASONS,
    VIOLATION_KINDS,
    generate_governance_log,
    identities,
    write_governance_log,
)
from orchestration.lib.landing import LandingError, land_file, landing_options_for
from orchestration.lib.landing.governance_log import GOVERNANCE_REASON_CODES
from orchestration.lib.register import RegisterError, load_register

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SALT = "governance-test-salt"
PROMPT = "Refund customer 4711 via IBAN DE44 5001 0517 5407 3249 31 and tell nobody"


def action(i: int | str, **overrides) -> dict:
    row = {"action_id": f"a{i}", "workflow_id": "invoice_posting_v1", "run_id": "r1", "actor": "orchestrator",
           "action": "tool_action", "ts": "2026-11-20T10:00:00Z"}
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not None}


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def land(con, path, register, **kw):
    return land_file(con, path, register=register, salt=SALT, now=NOW, log_format="governance", **kw)


def with_approvals(register, **changes):
    return register.model_copy(update={"approvals": register.approvals.model_copy(update=changes)})


def conserved(con) -> None:
    """Per governance load: rows read = loaded + quarantined, and both tables hold exactly those."""
    bad = con.execute(
        """select l.file_path from raw.load_ledger l
           where l.log_format = 'governance' and (l.rows_read <> l.rows_loaded + l.rows_quarantined
              or l.rows_loaded <> (select count(*) from raw.governance_actions g where g.load_id = l.load_id)
              or l.rows_quarantined <> (select count(*) from raw.quarantine q where q.load_id = l.load_id))"""
    ).fetchall()
    assert bad == []


# one case per reason code: (records, expected reason, expected detail fragment); the row under test is the last
REASON_CASES = {
    "malformed_record": ([action(0), '{"action_id": "a1", "workflow_id": '], "invalid JSON"),
    "missing_required_field": ([action(1, actor=None)], "actor"),
    "invalid_identifier": ([action(1, run_id="r" * 300)], "run_id"),
    "unparseable_timestamp": ([action(1, ts="20/11/2026 10:00")], "ts '20/11/2026 10:00' is not ISO 8601"),
    "unknown_action": ([action(1, action="delete_warehouse")], "delete_warehouse"),
    "invalid_type": ([action(1, confidence="high")], "confidence is not a number"),
    "confidence_out_of_range": ([action(1, confidence=1.2)], "confidence 1.2"),
    "unknown_role": ([action(1, actor_role="superuser")], "actor_role 'superuser' is not a role of rbac.roles"),
    "unknown_playbook": ([action(1, action="playbook_run", playbook="drop_all_queues")], "drop_all_queues"),
    "invalid_decision": ([action(1, action="approval", playbook="replay_failed_invoices", decision="maybe")],
                         "decision 'maybe'"),
    "future_timestamp": ([action(1, ts="2026-11-22T12:00:01Z")], "more than 24 h after landing"),
    "duplicate_action_id_in_file": ([action(1), action(1, actor="someone")], "repeats an earlier row"),
}


def test_every_reason_code_has_a_case():
    assert set(REASON_CASES) | {"duplicate_action_id"} == set(GOVERNANCE_REASON_CODES)


@pytest.mark.parametrize("reason", list(REASON_CASES))
def test_each_bad_row_is_quarantined_with_its_reason(tmp_path, con, register, reason):
    records, detail = REASON_CASES[reason]
    result = land(con, write_jsonl(tmp_path / "gov.jsonl", records), register)
    assert result.quarantine_reasons == {reason: 1}
    assert (result.rows_read, result.rows_loaded) == (len(records), len(records) - 1)
    row, got, text = con.execute(
        "select source_row_number, reason_code, reason_detail from raw.quarantine").fetchone()
    assert (row, got) == (len(records), reason)
    assert detail in text
    assert con.execute("select log_format from raw.load_ledger").fetchone() == ("governance",)
    conserved(con)


def test_rules_that_need_a_playbook_or_decision(tmp_path, con, register):
    rows = [
        action(1, action="playbook_run"),                                           # no playbook
        action(2, action="approval", playbook="replay_failed_invoices"),             # no decision
        action(3, action="playbook_run", playbook="restart_failed_stage"),          # low-risk: fine
        action(4, action="approval", playbook="replay_failed_invoices", decision="GRANTED",
               actor="cio@company.com", actor_role="change_authority"),
        action(5, actor_role="ops_controller", playbook="anything_goes"),           # a tool action's playbook is free text
    ]
    result = land(con, write_jsonl(tmp_path / "gov.jsonl", rows), register)
    assert result.quarantine_reasons == {"missing_required_field": 2}
    details = [d for (d,) in con.execute("select reason_detail from raw.quarantine order by source_row_number").fetchall()]
    assert details == ["playbook (a playbook_run names one)", "decision (an approval is granted or rejected)"]
    assert con.execute("select action_id, decision from raw.governance_actions where action = 'approval'").fetchall() == [
        ("a4", "granted")]


def test_conservation_exactly_once_and_duplicates_across_files(tmp_path, con, register):
    first = write_jsonl(tmp_path / "one.jsonl", [action(1), action(2), action(3, ts="nope")])
    r1 = land(con, first, register)
    assert (r1.status, r1.rows_read, r1.rows_loaded, r1.rows_quarantined) == ("loaded", 3, 2, 1)
    again = land(con, first, register)
    assert again.status == "already_loaded" and again.load_id == r1.load_id
    second = write_jsonl(tmp_path / "two.jsonl", [action(2, actor="x"), action(4)])
    r2 = land(con, second, register)
    assert (r2.rows_loaded, r2.quarantine_reasons) == (1, {"duplicate_action_id": 1})
    assert con.execute("select count(*), count(distinct action_id) from raw.governance_actions").fetchone() == (3, 3)
    assert con.execute("select count(*) from raw.load_ledger").fetchone() == (2,)
    assert con.execute("select count(*) from raw.workflow_events").fetchone() == (0,)
    conserved(con)


def test_loaded_values_attributes_and_redaction(tmp_path, con, register):
    rows = [action(1, action="playbook_run", playbook="replay_failed_invoices", prechecks=["eu_only_processing", "owner_on_call"],
                   rollback="revert_batch_rollback_v1", ts="2026-11-20T12:00:00+02:00", ticket="CHG-1",
                   customer_email="bob@example.com", attributes={"nested": {"customer_email": "eve@example.com"}}),
            action(2, prechecks="eu_only_processing; owner_on_call", confidence="0.5", reviewer_id="cio@company.com")]
    land(con, write_jsonl(tmp_path / "gov.jsonl", rows), register)
    got = con.execute("select action_id, prechecks, rollback, action_ts, attributes, confidence from raw.governance_actions "
                      "order by action_id").fetchall()
    assert got[0][1] == got[1][1] == ["eu_only_processing", "owner_on_call"]
    assert got[0][3] == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    attributes = json.loads(got[0][4])
    assert attributes["ticket"] == "CHG-1"
    assert attributes["customer_email"].startswith("sha256:") and attributes["nested"]["customer_email"].startswith("sha256:")
    assert got[1][4] is None and got[1][5] == 0.5


def _text_values(con) -> list[str]:
    """Every value of every text, JSON or list column of every table in the warehouse, as text."""
    columns = con.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where table_catalog = current_database()
             and (data_type in ('VARCHAR', 'JSON') or data_type like '%[]')"""
    ).fetchall()
    values = []
    for schema, table, column in columns:
        values += [v for (v,) in con.execute(
            f'select cast("{column}" as varchar) from "{schema}"."{table}" where "{column}" is not null').fetchall()]
    return values


def test_prompt_is_never_stored_in_clear_unless_allowed(tmp_path, con, register):
    full_text = register.model_copy(update={"data_controls": register.data_controls.model_copy(update={
        "redaction": register.data_controls.redaction.model_copy(update={"malformed_records": "full_text"})})})
    rows = [
        action(1, prompt=PROMPT, model_name="ops-assistant", model_version="2026.10", confidence=0.9),
        action(2, prompt=PROMPT, actor_role="superuser"),                      # quarantined, prompt in raw_record
        action(3, attributes={"context": {"prompt": PROMPT}}),                 # a prompt inside attributes
        '{"action_id": "a4", "prompt": "' + PROMPT + '", "ts": ',              # unparseable: full_text is overridden
    ]
    land(con, write_jsonl(tmp_path / "gov.jsonl", rows), full_text)
    assert not [v for v in _text_values(con) if "IBAN" in v or "4711" in v]
    sha, length, text = con.execute(
        "select prompt_sha256, prompt_length, prompt_text from raw.governance_actions where action_id = 'a1'").fetchone()
    assert sha == hashlib.sha256((SALT + PROMPT).encode()).hexdigest() and length == len(PROMPT) and text is None

    allowed = with_approvals(register, store_prompt_text=True)
    land(con, write_jsonl(tmp_path / "allowed.jsonl", [action(9, prompt=PROMPT)]), allowed)
    assert con.execute("select prompt_text from raw.governance_actions where action_id = 'a9'").fetchone() == (PROMPT,)


def test_csv_and_parquet_land_like_json_lines(tmp_path, register):
    """The generated log in the three formats lands the same rows and quarantines the same ones."""
    events = generate_events(days=7, runs_per_day=4, seed=5, end_date=date(2026, 11, 20), register=register, fmt="jsonl")
    log = generate_governance_log(events, register=register, seed=5)
    landed = {}
    for fmt in ("jsonl", "csv", "parquet"):
        path = tmp_path / f"gov.{fmt}"
        write_governance_log(log, path, fmt)
        con = duckdb.connect(str(tmp_path / f"{fmt}.duckdb"))
        result = land(con, path, register)
        landed[fmt] = (
            result.rows_read, result.quarantine_reasons,
            con.execute("""select action_id, workflow_id, run_id, actor, actor_role, action, playbook, prompt_sha256,
                                  prompt_length, model_name, model_version, confidence, reviewer_id, decision, prechecks,
                                  rollback, action_ts, attributes::varchar
                           from raw.governance_actions order by action_id""").fetchall(),
        )
        conserved(con)
        con.close()
    assert landed["jsonl"][0] == len(log.rows)
    assert landed["jsonl"][1] == {reason: 1 for reason in BAD_ROW_REASONS}
    assert landed["csv"][:2] == landed["parquet"][:2] == landed["jsonl"][:2]
    # CSV has no nulls inside text and no typed attributes: compare everything else
    def comparable(rows):
        return [r[:17] for r in rows]
    assert comparable(landed["csv"][2]) == comparable(landed["parquet"][2]) == comparable(landed["jsonl"][2])


def test_a_file_without_the_required_columns_is_refused(tmp_path, con, register):
    path = tmp_path / "gov.csv"
    path.write_text("action_id,workflow_id,actor,when\na1,w,x,2026-11-20T10:00:00Z\n", encoding="utf-8")
    with pytest.raises(LandingError, match=r"missing required column\(s\) action, ts of the governance log"):
        land(con, path, register)
    pq.write_table(pa.table({"action_id": ["a1"]}), tmp_path / "gov.parquet")
    with pytest.raises(LandingError, match="missing required column"):
        land(con, tmp_path / "gov.parquet", register)
    assert con.execute("select count(*) from raw.load_ledger").fetchone() == (0,)


def test_folder_convention():
    assert landing_options_for(Path("landing/governance/actions.jsonl")) == {"log_format": "governance"}
    assert landing_options_for(Path("landing/sample/governance/actions.parquet")) == {"log_format": "governance"}
    assert landing_options_for(Path("landing/minimal/governance/cases.csv")) == {"log_format": "minimal",
                                                                                 "workflow": "governance"}
    assert landing_options_for(Path("landing/governance/old/actions.csv")) == {}


@pytest.fixture(scope="module")
def landed_folder(tmp_path_factory, cc_env):
    """`command-center generate` then `ingest FOLDER`: events at the top, the governance log in governance/."""
    root = tmp_path_factory.mktemp("governance_folder")
    mp = pytest.MonkeyPatch()
    try:
        settings = cc_env.apply(mp, root)
        folder = root / "landing"
        args = ["--days", "7", "--runs-per-day", "4", "--seed", "11", "--end-date", "2026-11-20"]
        assert main(["generate", *args, "--out", str(folder / "events.jsonl")]) == 0
        assert main(["generate", *args, "--log-format", "governance", "--out", str(folder / "governance" / "gov.csv")]) == 0
        assert main(["ingest", str(folder)]) == 0
    finally:
        mp.undo()
    manifest = json.loads((folder / "governance" / "gov.csv.manifest.json").read_text())
    return settings.duckdb_path, manifest


def test_the_folder_lands_events_and_the_governance_log(landed_folder):
    db, manifest = landed_folder
    con = duckdb.connect(str(db), read_only=True)
    try:
        formats = dict(con.execute("select file_format, log_format from raw.load_ledger").fetchall())
        assert formats == {"jsonl": "telemetry", "csv": "governance"}
        # who landed it, from which host, and its link in the ledger's hash chain, as for events
        who = con.execute("""select landed_by_user, landed_on_host, landed_by_pid, chain_seq, entry_hash
                             from raw.load_ledger where log_format = 'governance'""").fetchone()
        assert None not in who
        # the log's runs are the events' runs
        unmatched = con.execute("""select count(*) from raw.governance_actions
                                   where run_id is not null and run_id not in (select run_id from raw.workflow_events)""")
        assert unmatched.fetchone() == (0,)
        quarantined = dict(con.execute(
            "select event_id, reason_code from raw.quarantine where load_id in "
            "(select load_id from raw.load_ledger where log_format = 'governance')").fetchall())
        assert quarantined == {ids[0]: reason for reason, ids in manifest["quarantined"].items()}
        conserved(con)
    finally:
        con.close()


def test_the_generated_log_plants_every_violation_kind(landed_folder, register):
    _, manifest = landed_folder
    assert manifest["not_planted"] == {}
    assert set(manifest["violations"]) == set(VIOLATION_KINDS)
    assert set(manifest["quarantined"]) == set(BAD_ROW_REASONS)


def test_the_generator_resolves_identities_through_the_register(register):
    ids = identities(register)
    members = register.rbac.groups["CIO-change-advisory"]
    assert set(ids.holders("change_authority", "invoice_posting_v1")) == set(members)
    assert ids.out_of_scope("change_authority", "invoice_posting_v1") == ["eu.change.lead@company.com"]
    assert "a.lee@company.com" in ids.without({"change_authority"})


def _verify(db: Path, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["verify", "--duckdb", str(db), "--json"])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("tamper", "kind"), [
    ("update raw.governance_actions set actor = 'cio@company.com' where action_id = "
     "(select min(action_id) from raw.governance_actions where action = 'playbook_run')", "content"),
    ("delete from raw.governance_actions where action_id = (select min(action_id) from raw.governance_actions)", "count"),
])
def test_verify_detects_an_edited_or_deleted_governance_row(landed_folder, tmp_path, capsys, tamper, kind):
    db, _ = landed_folder
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    rc, report = _verify(copy, capsys)
    assert rc == 0 and report["intact"]
    con = duckdb.connect(str(copy))
    con.execute(tamper)
    gov_load = con.execute("select load_id from raw.load_ledger where log_format = 'governance'").fetchone()[0]
    con.close()
    rc, report = _verify(copy, capsys)
    assert rc == 1
    assert (report["first_break"]["kind"], report["first_break"]["key"]) == (kind, gov_load)


def test_register_refuses_bad_approvals_settings(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "command_center.yml").read_text(encoding="utf-8")
    shipped = 'low_risk_playbooks: ["restart_failed_stage", "resend_notification"]'
    assert shipped in text
    bad = text.replace(shipped, 'low_risk_playbooks: ["replay_failed_invoices", "a b", "x", "x"]')
    (tmp_path / "r.yml").write_text(bad, encoding="utf-8")
    with pytest.raises(RegisterError) as err:
        load_register(tmp_path / "r.yml")
    message = str(err.value)
    assert "approvals.low_risk_playbooks[0]: 'replay_failed_invoices' is also in approvals.high_risk_playbooks" in message
    assert "approvals.low_risk_playbooks[1]: 'a b' is not a playbook name" in message
    assert "approvals.low_risk_playbooks[3]: duplicate of approvals.low_risk_playbooks[2]" in message
    (tmp_path / "s.yml").write_text(text.replace("store_prompt_text: false", 'store_prompt_text: "yes"'), encoding="utf-8")
    with pytest.raises(RegisterError, match=r"approvals.store_prompt_text: .*boolean"):
        load_register(tmp_path / "s.yml")


def test_the_generated_log_is_deterministic_and_compliant_outside_the_plants(register):
    events = generate_events(days=7, runs_per_day=4, seed=5, end_date=date(2026, 11, 20), register=register, fmt="jsonl")
    one, two = (generate_governance_log(events, register=register, seed=5) for _ in range(2))
    assert one.rows == two.rows and one.manifest == two.manifest
    planted = {a for ids in one.manifest["violations"].values() for a in ids}
    planted |= {a for ids in one.manifest["quarantined"].values() for a in ids}
    threshold = register.approvals.ai_review_confidence_threshold
    for row in one.rows:
        if row["action_id"] in planted:
            continue
        if row["action"] == "tool_action" and row.get("confidence") is not None and row["confidence"] < threshold:
            assert row.get("reviewer_id"), row
        if row["action"] == "approval":
            assert row["actor"] in register.rbac.groups["CIO-change-advisory"], row


def test_hints_speak_of_the_governance_log(tmp_path, con, register):
    from orchestration.lib.landing.hints import hints_for_result

    rows = [action(1), action(2, ts="yesterday"), action(3, actor_role="superuser")]
    hints = hints_for_result(land(con, write_jsonl(tmp_path / "gov.jsonl", rows), register))
    assert any("unparseable_timestamp (e.g. ts 'yesterday' is not ISO 8601): pass --timestamp-format" in h for h in hints)
    assert any("unknown_role" in h and "rbac.roles" in h for h in hints)
    assert not any("event_ts" in h or "--map" in h for h in hints)
