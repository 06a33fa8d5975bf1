"""Redaction (issue 18, section 1): a redacted field is stored nowhere in clear.

Every file format x every place a field can hide x loaded or quarantined (and unparseable records),
landed into a real DuckDB file; then every text and JSON column of every table is scanned for the
clear values. Plus the register rules and the salt policy.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.lib.landing import land_file
from orchestration.lib.register import RegisterError, parse_register
from orchestration.lib.warehouse import connect
from orchestration.settings import DEV_REDACTION_SALT, REPO_ROOT

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SALT = "test-salt-redaction"
COLUMNS = ["event_id", "workflow_id", "run_id", "event_type", "event_ts", "region", "owner", "actor", "attributes"]


def _register_data(**redaction) -> dict:
    data = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text(encoding="utf-8"))
    data["data_controls"]["redaction"].update(redaction)
    return data


def _register(**redaction):
    return parse_register(_register_data(**redaction))


@pytest.fixture(scope="module")
def register():
    return _register(fields=["customer_email", "bank_account", "actor", "owner"])


def _all_text(con) -> str:
    """Every value of every VARCHAR/JSON column of every table in the file, as one text."""
    parts = []
    for schema, table, column in con.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type in ('VARCHAR', 'JSON') and table_schema not in ('information_schema', 'pg_catalog')"""
    ).fetchall():
        parts += [v for (v,) in con.execute(f'select "{column}"::varchar from "{schema}"."{table}"').fetchall() if v]
    return "\n".join(parts)


# Where a field can hide: place -> (row overrides given the clear value, whether the value is the
# attributes object). Every clear value is unique, so a leak names its place.
def _places(v: str) -> dict[str, dict]:
    return {
        "top_level": {"customer_email": v},
        "attributes_object": {"attributes": {"customer_email": v, "order_id": "o1"}},
        "attributes_text": {"attributes": json.dumps({"bank_account": v})},
        "nested_object": {"attributes": {"contact": {"customer_email": v}}},
        "inside_array": {"attributes": {"list": [{"x": 1}, {"customer_email": v}]}},
        "other_case": {"attributes": {"Customer_Email": v, "BANK_ACCOUNT": v + "-b"}},
        "escaped_key": {"attributes": '{"customer\\u005femail": "' + v + '"}'},
        "object_value": {"attributes": {"bank_account": {"iban": v, "bic": "NWBKGB2L"}}},
        "json_text_in_string": {"attributes": {"payload": json.dumps({"deep": {"customer_email": v}})}},
        "actor_column": {"actor": v},
        "owner_column": {"owner": v},
    }


def _row(i: str, *, quarantined: bool, **overrides) -> dict:
    row = {
        "event_id": f"e-{i}", "workflow_id": "fulfillment_v2", "run_id": "r1", "event_type": "stage_completed",
        "event_ts": "not-a-time" if quarantined else "2026-11-20T10:00:00Z", "region": "us-east-1",
        "owner": None, "actor": "system", "attributes": None,
    }
    row.update(overrides)
    return row


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _write(path: Path, rows: list[dict], fmt: str) -> Path:
    extra = sorted({k for r in rows for k in r} - set(COLUMNS))
    cols = COLUMNS + extra
    if fmt == "jsonl":
        lines = []
        for r in rows:
            attrs = r.get("attributes")
            body = {k: v for k, v in r.items() if v is not None and k != "attributes"}
            line = json.dumps(body)
            if attrs is not None:
                # an escaped key is written as the producer wrote it: raw JSON text, not a string
                raw = attrs if isinstance(attrs, str) and "\\u005f" in attrs else json.dumps(attrs)
                line = line[:-1] + ', "attributes": ' + raw + "}"
            lines.append(line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "csv":
        import csv

        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for r in rows:
                w.writerow([_text(r.get(c)) or "" for c in cols])
    else:
        data = {}
        for c in cols:
            values = [r.get(c) for r in rows]
            if c == "attributes" and all(isinstance(v, dict) for v in values):
                data[c] = pa.array(values)  # a STRUCT column
            else:
                data[c] = pa.array([_text(v) for v in values], pa.string())
        pq.write_table(pa.table(data), path)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_no_redacted_value_in_clear_anywhere(tmp_path, con, register, fmt):
    secrets: list[str] = []
    expected = {}
    for place in _places("x"):
        rows = []
        for variant in ("loaded", "quarantined"):
            v = f"{fmt}-{place}-{variant}-secret@example.com"
            secrets.append(v)
            rows.append(_row(f"{place}-{variant}", quarantined=variant == "quarantined", **_places(v)[place]))
        path = _write(tmp_path / f"{place}.{fmt}", rows, fmt)
        result = land_file(con, path, register=register, salt=SALT, now=NOW)
        expected[place] = (result.rows_loaded, result.rows_quarantined)
    # every place really produced one loaded and one quarantined row
    assert expected == {p: (1, 1) for p in _places("x")}, expected
    text = _all_text(con)
    leaked = [s for s in secrets if s in text or s.split("@")[0] in text]
    assert not leaked, f"in clear: {leaked}"
    # the loaded values are salted hashes (joins and counts still work), and 'system' stays readable
    hashed = con.execute(
        """select attributes->>'customer_email', actor from raw.workflow_events where event_id = 'e-attributes_object-loaded'"""
    ).fetchone()
    assert hashed[0].startswith("sha256:") and hashed[1] == "system"
    owner, actor = con.execute(
        "select owner, actor from raw.workflow_events where event_id in ('e-owner_column-loaded', 'e-actor_column-loaded') "
        "order by event_id desc"
    ).fetchall()[0][0], con.execute(
        "select actor from raw.workflow_events where event_id = 'e-actor_column-loaded'"
    ).fetchone()[0]
    assert owner.startswith("sha256:") and actor.startswith("sha256:")


def test_unparseable_records_keep_no_redacted_value(tmp_path, con, register):
    iban, iban_tail = "GB11NWBK60161331926800", "NWBK60161331926819"
    secrets = [iban, iban_tail, "jane.q@example.com", "single-quoted@example.com", "escaped-key@example.com",
               "column-value@example.com", "unterminated@example.com", "short@example.com", "bad-utf8@example.com"]
    jsonl = tmp_path / "malformed.jsonl"
    jsonl.write_text(
        "\n".join([
            json.dumps(_row("ok", quarantined=False)),
            # unterminated, with a comma and an escaped quote inside the value
            '{"event_id": "m1", "attributes": {"bank_account": "' + f'{iban},{iban_tail}' + ' \\" jane.q@example.com"',
            "{'event_id': 'm2', 'customer_email': 'single-quoted@example.com'}",
            '{"event_id": "m3", "customer\\u005femail": "escaped-key@example.com"',
        ]) + "\n",
        encoding="utf-8",
    )
    # a CSV whose header names a redacted column: wrong field counts, an unterminated quote, bad UTF-8
    with_column = tmp_path / "with_column.csv"
    header = "event_id,workflow_id,run_id,event_type,event_ts,region,customer_email\n"
    good = "c0,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,us-east-1,ok@example.com\n"
    with_column.write_bytes(
        (header + good
         + "c1,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,us-east-1,column-value@example.com,extra\n"
         + "c2,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,short@example.com\n").encode()
        + b"c3,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,us-east-1,bad-utf8\xff@example.com\n"
    )
    # a CSV with the value inside attributes JSON text: too many fields, then an unterminated quote
    in_attributes = tmp_path / "in_attributes.csv"
    in_attributes.write_text(
        "event_id,workflow_id,run_id,event_type,event_ts,region,attributes\n"
        'd0,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,us-east-1,"{}"\n'
        'd1,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,us-east-1,"{""customer_email"": ""jane.q@example.com""}",x\n'
        'd2,fulfillment_v2,r1,stage_completed,2026-11-20T10:00:00Z,us-east-1,"{""customer_email"": ""unterminated@example.com}\n',
        encoding="utf-8",
    )
    results = [land_file(con, p, register=register, salt=SALT, now=NOW) for p in (jsonl, with_column, in_attributes)]
    assert [r.quarantine_reasons.get("malformed_record", 0) for r in results] == [3, 3, 2]
    text = _all_text(con)
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"in clear: {leaked}"
    records = [r for (r,) in con.execute("select raw_record from raw.quarantine order by source_file, source_row_number").fetchall()]
    assert all(r.startswith("<malformed record: ") and "sha256:" in r for r in records)


def test_malformed_record_policies(tmp_path, con):
    line = '{"event_id": "m1", "note": "visible", "customer_email": "jane@example.com"'
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(_row("ok", quarantined=False)) + "\n" + line + "\n", encoding="utf-8")
    kept = {}
    for policy in ("hash_and_prefix", "hash_only", "full_text"):
        reg = _register(malformed_records=policy)
        con.execute("delete from raw.load_ledger") if policy != "hash_and_prefix" else None
        con.execute("delete from raw.workflow_events") if policy != "hash_and_prefix" else None
        land_file(con, path, register=reg, salt=SALT, now=NOW)
        kept[policy] = con.execute("select raw_record from raw.quarantine order by quarantined_at desc, rowid desc").fetchone()[0]
    assert kept["hash_and_prefix"].startswith(f"<malformed record: {len(line)} characters, sha256:")
    assert '"note": "visible", "customer_email<redacted>' in kept["hash_and_prefix"]
    assert "jane" not in kept["hash_and_prefix"] and "begins" not in kept["hash_only"] and "jane" not in kept["hash_only"]
    assert kept["full_text"] == line


def test_minimal_logs_keep_no_redacted_value(tmp_path, con, register):
    """A minimal event log: the actor column and any other column (which lands in attributes)."""
    path = tmp_path / "cases.csv"
    path.write_text(
        "case_id,event_name,timestamp,actor,Customer_Email\n"
        "C1,received,2026-11-20T08:00:00Z,min-actor-loaded@example.com,min-email-loaded@example.com\n"
        "C1,shipped,not-a-time,min-actor-quarantined@example.com,min-email-quarantined@example.com\n",
        encoding="utf-8",
    )
    result = land_file(con, path, register=register, salt=SALT, now=NOW, log_format="minimal", workflow="fulfillment_v2")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert "min-" not in _all_text(con)


def test_minimal_event_id_does_not_encode_a_redacted_actor(tmp_path, register):
    """The derived event_id of a minimal log hashes the event's identity without a salt; with actor
    redacted, the identity holds the actor's salted hash, so the id cannot be matched against guesses."""
    import hashlib

    path = tmp_path / "cases.csv"
    path.write_text("case_id,event_name,timestamp,actor\nC1,received,2026-11-20T08:00:00Z,ann@example.com\n",
                    encoding="utf-8")

    def derived(actor: str) -> str:
        identity = "\x1f".join(["fulfillment_v2", "C1", "received", "2026-11-20T08:00:00.000000Z", actor])
        return "mvl_" + hashlib.sha256(identity.encode()).hexdigest()[:32]

    ids = {}
    for name, reg in (("clear", _register(fields=["customer_email"])), ("redacted", register)):
        c = connect(tmp_path / f"{name}.duckdb")
        land_file(c, path, register=reg, salt=SALT, now=NOW, log_format="minimal", workflow="fulfillment_v2")
        ids[name] = c.execute("select event_id from raw.workflow_events").fetchone()[0]
        c.close()
    assert ids["clear"] == derived("ann@example.com")  # the guessable formula, when actor is not redacted
    assert ids["redacted"] != derived("ann@example.com")
    assert ids["redacted"].startswith("mvl_")


def test_huge_records_are_redacted_in_bounded_time(tmp_path, con, register):
    """Many redacted scalars are replaced in one linear pass; a text too long for the full walk (an
    object under a redacted key, here) is hashed whole instead of stalling the landing."""
    import time

    many = {"l": [{"customer_email": f"many-{i}@example.com"} for i in range(20_000)]}
    nested = {"l": [{"customer_email": {"x": f"nested-{i}@example.com"}} for i in range(2_000)]}
    path = tmp_path / "huge.jsonl"
    path.write_text(
        json.dumps(_row("many", quarantined=False, attributes=many)) + "\n"
        + json.dumps(_row("nested", quarantined=False, attributes=nested)) + "\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    assert land_file(con, path, register=register, salt=SALT, now=NOW).rows_loaded == 2
    assert time.perf_counter() - started < 60
    text = _all_text(con)
    assert "@example.com" not in text
    stored = dict(con.execute("select event_id, attributes::varchar from raw.workflow_events").fetchall())
    assert json.loads(stored["e-many"])["l"][19_999]["customer_email"].startswith("sha256:")
    assert list(json.loads(stored["e-nested"])) == ["redacted"]


# ------------------------------------------------------------------------------------------------
# register rules
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["workflow_id", "event_id", "run_id", "region", "event_type", "event_ts",
                                   "attributes", "Event_Ts", "case_id", "timestamp"])
def test_register_refuses_fields_the_marts_key_on(field):
    with pytest.raises(RegisterError) as exc:
        _register(fields=["customer_email", field])
    assert f"field {field!r} cannot be redacted" in str(exc.value)


def test_register_accepts_actor_and_owner_and_refuses_case_duplicates():
    reg = _register(fields=["customer_email", "actor", "Owner"])
    assert reg.data_controls.redaction.malformed_records == "hash_and_prefix"
    with pytest.raises(RegisterError, match="must not list a field twice"):
        _register(fields=["customer_email", "Customer_Email"])
    with pytest.raises(RegisterError, match="malformed_records"):
        _register(malformed_records="everything")


# ------------------------------------------------------------------------------------------------
# the salt policy
# ------------------------------------------------------------------------------------------------


def test_development_salt_warns_on_duckdb_and_is_refused_on_snowflake():
    from orchestration.lib.landing.redaction import DEV_SALT_WARNING, RedactionSaltError, check_redaction_salt

    reg = _register()
    assert check_redaction_salt(reg, "a-secret", "duckdb") is None
    assert check_redaction_salt(reg, "a-secret", "snowflake") is None
    assert check_redaction_salt(reg, DEV_REDACTION_SALT, "duckdb") == DEV_SALT_WARNING
    with pytest.raises(RedactionSaltError, match="COMMAND_CENTER_REDACTION_SALT is not set"):
        check_redaction_salt(reg, DEV_REDACTION_SALT, "snowflake")
    strict = _register(require_secret_salt=True)
    with pytest.raises(RedactionSaltError, match="require_secret_salt: true"):
        check_redaction_salt(strict, DEV_REDACTION_SALT, "duckdb")
    lax = _register(require_secret_salt=False)
    assert check_redaction_salt(lax, DEV_REDACTION_SALT, "snowflake") == DEV_SALT_WARNING


def _one_event_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "one.jsonl"
    path.write_text(json.dumps({k: v for k, v in _row("s1", quarantined=False).items() if v is not None}) + "\n")
    return path


def test_cli_ingest_warns_about_the_development_salt_or_refuses(command_center_env, monkeypatch, capsys, tmp_path):
    from orchestration.cli import main

    path = _one_event_file(tmp_path / "in")
    monkeypatch.delenv("COMMAND_CENTER_REDACTION_SALT", raising=False)
    assert main(["ingest", str(path)]) == 0
    assert "warning: landing with the development redaction salt" in capsys.readouterr().err
    monkeypatch.setenv("COMMAND_CENTER_REDACTION_SALT", "a-real-secret")
    assert main(["ingest", str(path)]) == 0
    assert "development redaction salt" not in capsys.readouterr().err
    # the snowflake target requires a secret salt unless the register says otherwise
    monkeypatch.delenv("COMMAND_CENTER_REDACTION_SALT")
    monkeypatch.setenv("COMMAND_CENTER_DBT_TARGET", "snowflake")
    assert main(["ingest", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error: COMMAND_CENTER_REDACTION_SALT is not set" in err and "Traceback" not in err


def test_dagster_landing_warns_about_the_development_salt_or_refuses(command_center_env, monkeypatch, tmp_path):
    import dagster as dg

    from orchestration.defs.landing import raw_workflow_events
    from orchestration.defs.register import governance_register
    from orchestration.defs.resources import LandingResource, WarehouseResource

    settings = command_center_env
    _one_event_file(settings.landing_dir)
    monkeypatch.delenv("COMMAND_CENTER_REDACTION_SALT", raising=False)

    instance = dg.DagsterInstance.ephemeral()

    def materialize(register_path: Path):
        return dg.materialize(
            [governance_register, raw_workflow_events],
            resources={
                "warehouse": WarehouseResource(duckdb_path=str(settings.duckdb_path)),
                "landing": LandingResource(landing_dir=str(settings.landing_dir), register_path=str(register_path)),
            },
            instance=instance,
            raise_on_error=False,
        )

    strict = tmp_path / "strict.yml"
    strict.write_text(yaml.safe_dump(_register_data(require_secret_salt=True)), encoding="utf-8")
    refused = materialize(strict)
    assert not refused.success
    failure = next(e for e in refused.all_events if e.event_type_value == "STEP_FAILURE")
    assert "COMMAND_CENTER_REDACTION_SALT is not set" in str(failure.event_specific_data.error)

    result = materialize(settings.register_path)
    assert result.success
    [mat] = result.asset_materializations_for_node("raw_workflow_events")
    assert mat.metadata["redaction_salt"].value.startswith("development default")
    assert any(
        "development redaction salt" in (entry.user_message or "") and entry.level >= 30
        for entry in instance.all_logs(result.run_id)
    )
