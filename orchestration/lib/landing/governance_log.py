"""Landing of the governance log: the orchestrator's action log, a third input shape (docs/governance-log.md).

One row per action: AI-assisted tool actions (prompt, model, confidence, reviewer), playbook runs and
their approvals, SLA and owner changes. ``land_file(..., log_format='governance')`` comes here (so
`command-center ingest FILE --log-format governance` and the landing folder's ``governance/`` subfolder
both do), with the guarantees of events:

* DuckDB reads the file (the readers of readers.py: JSON Lines, CSV, Parquet) and one SQL statement
  checks every row; no Python touches rows.
* Exactly once per file content (the load ledger's sha256, log_format 'governance'), in one
  transaction with the ledger row and its hash-chain entry (audit/ledger.py ``seal_loads``); the
  entry's loaded_fingerprint covers the rows of raw.governance_actions, so `command-center verify`
  finds an edited, deleted or added action.
* Every row read is loaded into raw.governance_actions or quarantined into raw.quarantine with one of
  GOVERNANCE_REASON_CODES (rows_read = rows_loaded + rows_quarantined).
* The prompt is stored as ``prompt_sha256`` = sha256(redaction salt || prompt) and ``prompt_length``
  (characters); its text only when the register says ``approvals.store_prompt_text: true``. Otherwise
  ``prompt`` is also redacted (hashed) wherever it occurs in attributes and quarantined records, and an
  unparseable record is never kept in full.
* Fields not in the contract go to ``attributes`` (JSON), the register's redacted fields hashed there.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.audit.ledger import seal_loads
from orchestration.lib.contract import GOVERNANCE_ROW_FINGERPRINT_SQL, MAX_FUTURE_SKEW_HOURS, MAX_IDENTIFIER_LENGTH
from orchestration.lib.landing.common import LandingError, LandingResult, file_format_of, scan_file, sql_literal
from orchestration.lib.landing.readers import (
    _read_csv,
    _read_jsonl,
    _read_parquet,
    jsonl_source,
)
from orchestration.lib.landing.redaction import malformed_record_sql, redacted_json_sql, used_params
from orchestration.lib.landing.timestamps import (
    TimestampOptionError,
    check_timestamp_options,
    parse_sql,
    timestamp_params,
    unparseable_detail_sql,
)
from orchestration.lib.landing.transaction import landing_transaction
from orchestration.lib.landing.validation import CONTROL_CHAR_GLOB
from orchestration.lib.register import Register
from orchestration.lib.warehouse import ensure_raw_schema

#: the ledger's log_format of a governance log, and ``--log-format governance``
GOVERNANCE_LOG_FORMAT = "governance"
#: Landing-folder convention: a file directly in a folder named ``governance`` is a governance log.
GOVERNANCE_LOG_FOLDER = "governance"

ACTIONS: tuple[str, ...] = ("tool_action", "playbook_run", "approval", "modify_sla", "assign_owner")
DECISIONS: tuple[str, ...] = ("granted", "rejected")
#: Actions whose playbook must be one the register knows.
PLAYBOOK_ACTIONS: tuple[str, ...] = ("playbook_run", "approval")

#: The input fields (docs/governance-log.md); any other key of a record goes into attributes.
REQUIRED_FIELDS: tuple[str, ...] = ("action_id", "workflow_id", "actor", "action", "ts")
FIELDS: tuple[str, ...] = (
    "action_id", "workflow_id", "run_id", "actor", "actor_role", "action", "playbook", "prompt",
    "model_name", "model_version", "confidence", "reviewer_id", "decision", "prechecks", "rollback", "ts",
)
_IDENTIFIER_FIELDS = ("action_id", "workflow_id", "run_id", "actor", "actor_role", "playbook", "reviewer_id")

#: Quarantine reason codes of a governance-log row, in the order they are tested (the first wins).
#: The shared ones mean what contract.REASON_CODES says; the governance ones are new.
GOVERNANCE_REASON_CODES: dict[str, str] = {
    "malformed_record": "the record could not be parsed (invalid JSON, not an object, a broken CSV record)",
    "missing_required_field": "action_id, workflow_id, actor, action or ts is absent or blank; or a playbook_run "
                              "without playbook, an approval without playbook or decision",
    "invalid_identifier": "an identifier (action_id, workflow_id, run_id, actor, actor_role, playbook, reviewer_id) "
                          "is longer than 256 characters or holds control characters",
    "unparseable_timestamp": "ts is not an ISO 8601 timestamp (the rules of events: docs/event-contract.md#timestamps)",
    "unknown_action": "action is not tool_action, playbook_run, approval, modify_sla or assign_owner",
    "invalid_type": "confidence is not a number, prechecks not a list of text, attributes not a JSON object",
    "confidence_out_of_range": "confidence is outside 0..1",
    "unknown_role": "actor_role is given and is not a role of the register's rbac.roles",
    "unknown_playbook": "a playbook_run or approval names a playbook the register does not know "
                        "(approvals.high_risk_playbooks[].name, approvals.low_risk_playbooks)",
    "invalid_decision": "decision is given and is not granted or rejected (an approval's decision is required)",
    "future_timestamp": "ts is more than 24 hours after the landing time",
    "duplicate_action_id_in_file": "the action_id already occurred earlier in the same file (the first is loaded)",
    "duplicate_action_id": "the action_id was loaded by an earlier file",
}


def landing_options_for(path: Path | str) -> dict[str, str]:
    """land_file options of a landing-folder file directly inside a ``governance/`` folder."""
    parts = Path(path).parts
    if len(parts) >= 2 and parts[-2] == GOVERNANCE_LOG_FOLDER:
        return {"log_format": GOVERNANCE_LOG_FORMAT}
    return {}


def governance_hint(reason: str, pct: str, detail: str | None) -> str:
    """The `hint:` line of a governance log's reason (hints.landing_hints words events' reasons)."""
    example = f" (e.g. {detail})" if detail else ""
    fixes = {
        "unparseable_timestamp": "pass --timestamp-format with their strptime layout, and --timezone ZONE if they are local time",
        "unknown_role": "add the role to the register's rbac.roles, or correct actor_role",
        "unknown_playbook": "list the playbook under approvals.high_risk_playbooks or approvals.low_risk_playbooks",
        "missing_required_field": "every row needs action_id, workflow_id, actor, action and ts",
    }
    fix = fixes.get(reason, "see docs/governance-log.md#reason-codes")
    return f"{pct} of rows are quarantined as {reason}{example}: {fix}"


def known_playbooks(register: Register) -> list[str]:
    approvals = register.approvals
    return sorted({p.name for p in approvals.high_risk_playbooks} | set(approvals.low_risk_playbooks))


def _literals(values) -> str:
    return ", ".join(sql_literal(v) for v in values) or "null"


def _list(values) -> str:
    """A typed text list literal (an empty one too: list_contains over it is false)."""
    return f"cast([{', '.join(sql_literal(v) for v in values)}] as varchar[])"


# --------------------------------------------------------------------------------------------------
# SQL: project, check, insert
# --------------------------------------------------------------------------------------------------


def _text(key: str) -> str:
    return f"nullif(trim(json_extract_string(j, {sql_literal('/' + key)})), '')"


#: the fields removed from a record to leave its attributes (a JSON merge patch with nulls)
_NOT_ATTRIBUTES = sql_literal(json.dumps({f: None for f in (*FIELDS, "attributes")}))


def _projection() -> str:
    """Every contract field as text, the raw prompt (untrimmed), the prechecks as JSON, the other keys."""
    cols = [f"{_text(f)} as {f}" for f in FIELDS if f not in ("prompt", "prechecks")]
    cols += [
        "nullif(json_extract_string(j, '/prompt'), '') as _prompt",
        "json_extract(j, '/prechecks') as _prechecks_json",
        "json_extract(j, '/attributes') as _attributes_json",
        f"json_merge_patch(coalesce(j, '{{}}'::json), {_NOT_ATTRIBUTES}::json) as _others",
    ]
    return ", ".join(cols)


def _prechecks_sql() -> str:
    """prechecks as text[]: a JSON array as it is; a string holding a JSON array; else ';'-separated."""
    text = "json_extract_string(_prechecks_json, '$')"
    split = f"list_filter(list_transform(string_split({text}, ';'), lambda x: trim(x)), lambda x: x <> '')"
    return f"""case when _prechecks_json is null or json_type(_prechecks_json) = 'NULL' then null
        when json_type(_prechecks_json) = 'ARRAY' then from_json(_prechecks_json, '["VARCHAR"]')
        when json_type(_prechecks_json) = 'VARCHAR' and json_valid({text}) and json_type({text}::json) = 'ARRAY'
            then from_json({text}::json, '["VARCHAR"]')
        when json_type(_prechecks_json) = 'VARCHAR' then nullif({split}, [])
        end"""


def _attributes_sql() -> str:
    """The explicit attributes object (a JSON object, or a string holding one) merged with the other keys."""
    inner = "json_extract_string(_attributes_json, '$')"
    explicit = f"""case when _attributes_json is null or json_type(_attributes_json) = 'NULL' then '{{}}'::json
        when json_type(_attributes_json) = 'OBJECT' then _attributes_json
        when json_type(_attributes_json) = 'VARCHAR' and json_valid({inner}) and json_type({inner}::json) = 'OBJECT'
            then {inner}::json end"""
    return f"nullif(json_merge_patch(({explicit}), coalesce(_others, '{{}}'::json))::varchar, '{{}}')"


def _checks(register: Register, timestamp_format: str | None = None) -> tuple[str, str]:
    """(reason, detail) SQL over the typed rows: the first rule a row breaks (GOVERNANCE_REASON_CODES order)."""
    missing = " ".join(f"when {f} is null then {sql_literal(f)}" for f in REQUIRED_FIELDS)
    missing += (" when _action = 'playbook_run' and playbook is null then 'playbook (a playbook_run names one)'"
                " when _action = 'approval' and playbook is null then 'playbook (an approval names one)'"
                " when _action = 'approval' and decision is null then 'decision (an approval is granted or rejected)'")
    bad_ident = " ".join(
        f"when length({f}) > {MAX_IDENTIFIER_LENGTH} or {f} glob {CONTROL_CHAR_GLOB} "
        f"then {sql_literal(f)}" for f in _IDENTIFIER_FIELDS
    )
    bad_type = (
        "when confidence is not null and (try_cast(confidence as double) is null "
        "or not isfinite(try_cast(confidence as double))) then 'confidence is not a number' "
        "when _prechecks_json is not null and json_type(_prechecks_json) <> 'NULL' and _prechecks is null "
        "and not (json_type(_prechecks_json) = 'VARCHAR' and trim(json_extract_string(_prechecks_json, '$')) = '') "
        "then 'prechecks is not a list of text' "
        "when _attributes is null and _attributes_json is not null and json_type(_attributes_json) <> 'NULL' "
        "and not (json_type(_attributes_json) = 'VARCHAR' and json_extract_string(_attributes_json, '$') = '') "
        "then 'attributes is not a JSON object'"
    )
    roles = _list(r.name for r in register.rbac.roles)
    playbooks = _list(known_playbooks(register))
    rules = [
        ("malformed_record", "_problem is not null", "_problem"),
        ("missing_required_field", f"(case {missing} end) is not null", f"(case {missing} end)"),
        ("invalid_identifier", f"(case {bad_ident} end) is not null", f"(case {bad_ident} end)"),
        ("unparseable_timestamp", "_ts is null", None),
        ("unknown_action", f"_action not in ({_literals(ACTIONS)})", "'action ''' || left(action, 64) || ''''"),
        ("invalid_type", f"(case {bad_type} end) is not null", f"(case {bad_type} end)"),
        ("confidence_out_of_range", "try_cast(confidence as double) not between 0 and 1", "'confidence ' || confidence"),
        ("unknown_role", f"actor_role is not null and not list_contains({roles}, actor_role)",
         "'actor_role ''' || left(actor_role, 64) || ''' is not a role of rbac.roles'"),
        ("unknown_playbook", f"_action in ({_literals(PLAYBOOK_ACTIONS)}) and not list_contains({playbooks}, playbook)",
         "'playbook ''' || left(playbook, 64) || ''' is not in approvals.high_risk_playbooks or low_risk_playbooks'"),
        ("invalid_decision", f"lower(decision) not in ({_literals(DECISIONS)})",
         "'decision ''' || left(decision, 64) || ''' (expected granted or rejected)'"),
        ("future_timestamp", "_ts > $future_limit",
         f"'ts ' || strftime(_ts, '%Y-%m-%dT%H:%M:%SZ') || ' is more than {MAX_FUTURE_SKEW_HOURS} h after landing'"),
    ]
    reason = "case " + " ".join(f"when {cond} then {sql_literal(code)}" for code, cond, _ in rules) + " end"
    ts_detail = unparseable_detail_sql("ts", timestamp_format=timestamp_format, field="ts")
    detail = "case " + " ".join(f"when {cond} then {d or ts_detail}" for _, cond, d in rules) + " end"
    return reason, detail


def _check_sql(register: Register, ts_parse: str, timestamp_format: str | None) -> str:
    reason, detail = _checks(register, timestamp_format)
    return f"""create temp table _cc_checked as
        with projected as (select _row, _problem, {_projection()} from _cc_json),
        typed as (
            select *, lower(action) as _action, {ts_parse} as _ts, {_prechecks_sql()} as _prechecks,
                   {_attributes_sql()} as _attributes
            from projected
        ),
        checked as (select *, {reason} as _reason0, {detail} as _detail0 from typed),
        numbered as (
            select *, case when _reason0 is null
                           then row_number() over (partition by action_id, _reason0 is null order by _row) end as _nth
            from checked
        ),
        earlier as (
            select distinct g.action_id from raw.governance_actions g
            where g.action_id in (select action_id from numbered where _nth = 1)
        )
        select n.* exclude (_reason0, _detail0, _nth),
               case when n._reason0 is not null then n._reason0
                    when n._nth > 1 then 'duplicate_action_id_in_file'
                    when x.action_id is not null then 'duplicate_action_id' end as _reason,
               case when n._reason0 is not null then n._detail0
                    when n._nth > 1 then 'action_id ''' || left(n.action_id, 64) || ''' repeats an earlier row of this file'
                    when x.action_id is not null then 'action_id ''' || left(n.action_id, 64) || ''' was loaded by an earlier file'
               end as _reason_detail
        from numbered n left join earlier x on n._nth = 1 and n.action_id = x.action_id"""


def _insert_sql(redacted: list[str], store_prompt_text: bool) -> str:
    prompt_text = "_prompt" if store_prompt_text else "null"
    return f"""insert into raw.governance_actions
        select action_id, workflow_id, run_id, actor, actor_role, _action, playbook,
               case when _prompt is not null then sha256($salt || _prompt) end, length(_prompt), {prompt_text},
               model_name, model_version, try_cast(confidence as double), reviewer_id, lower(decision),
               _prechecks, rollback, _ts::timestamptz, ({redacted_json_sql('_attributes', redacted)})::json,
               $load_id, $now::timestamptz, _row
        from _cc_checked where _reason is null
        order by _row"""


def _quarantine_sql(con, redacted: list[str], policy: str) -> str:
    # Without store_prompt_text, 'prompt' is among ``redacted``, and a record that could not be parsed
    # is never kept whole (its prompt could not be cut out): full_text becomes hash_and_prefix.
    from orchestration.lib.landing.redaction import malformed_prefix_allowed

    malformed = malformed_record_sql(
        "r._text", redacted, policy,
        prefix_allowed=policy != "hash_and_prefix" or malformed_prefix_allowed(con, redacted),
    )
    return f"""insert into raw.quarantine
        select $load_id, $source_file, c._row, c._reason, c._reason_detail,
               case when c._problem is null then {redacted_json_sql("r._text", redacted)} else {malformed} end,
               left(c.action_id, 512), left(c.workflow_id, 512), $now
        from _cc_checked c join _cc_records r using (_row)
        where c._reason is not null
        order by c._row"""


# --------------------------------------------------------------------------------------------------
# one file
# --------------------------------------------------------------------------------------------------


def _read(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, carriage_return: bool) -> list[str] | None:
    if fmt == "jsonl":
        with jsonl_source(path, carriage_return=carriage_return) as source:
            return _read_jsonl(con, path, source=source)
    if fmt == "csv":
        return _read_csv(con, path, carriage_return=carriage_return)
    if fmt == "parquet":
        return _read_parquet(con, path)
    raise LandingError(path, "a governance log is JSON Lines, CSV or Parquet (.jsonl, .csv, .parquet)")


def _validate_and_load(con, register: Register, params: dict, *, store_prompt_text: bool, policy: str) -> None:
    ts_parse = parse_sql("ts", timestamp_format=params.get("timestamp_format"), timezone=params.get("timezone"))
    check = _check_sql(register, ts_parse, params.get("timestamp_format"))
    con.execute(check, used_params(check, params))
    redacted = list(register.data_controls.redaction.fields) + ([] if store_prompt_text else ["prompt"])
    insert = _insert_sql(redacted, store_prompt_text)
    con.execute(insert, used_params(insert, params))
    if not store_prompt_text and policy == "full_text":
        policy = "hash_and_prefix"
    quarantine = _quarantine_sql(con, redacted, policy)
    con.execute(quarantine, used_params(quarantine, params))


def _record_load(con, *, path: Path, scan, fmt: str, load_id: str, now: datetime, landing_run_id: str | None):
    """Count what _cc_checked holds, write the ledger row (fingerprint of the rows stored) and chain it."""
    from orchestration.lib.landing.load import _landed_by

    loaded, quarantined = con.execute(
        "select count(*) filter (where _reason is null), count(*) filter (where _reason is not null) from _cc_checked"
    ).fetchone()
    by_reason = con.execute(
        "select _reason, count(*), arg_min(_reason_detail, _row) from _cc_checked where _reason is not null "
        "group by 1 order by 1"
    ).fetchall()
    (fingerprint,) = con.execute(
        f"select sum({GOVERNANCE_ROW_FINGERPRINT_SQL}) from raw.governance_actions where load_id = ?", [load_id]
    ).fetchone()
    ledger = {
        "load_id": load_id, "file_sha256": scan.sha256, "file_path": str(path.resolve()), "file_format": fmt,
        "log_format": GOVERNANCE_LOG_FORMAT, "file_bytes": scan.state.size, "rows_read": loaded + quarantined,
        "rows_loaded": loaded, "rows_quarantined": quarantined, "loaded_at": now,
        **_landed_by(), "landing_run_id": landing_run_id, "first_event_ts": None, "loaded_fingerprint": fingerprint or 0,
    }
    con.execute(
        f"insert into raw.load_ledger ({', '.join(ledger)}) values ({', '.join('?' * len(ledger))})",
        list(ledger.values()),
    )
    seal_loads(con, [load_id])  # the ledger's hash chain, in this transaction (docs/tamper-evidence.md)
    return LandingResult(
        str(path), scan.sha256, "loaded", load_id, loaded + quarantined, loaded, quarantined,
        {r: n for r, n, _ in by_reason}, now, quarantine_samples={r: d for r, _, d in by_reason if d is not None},
        log_format=GOVERNANCE_LOG_FORMAT,
    )


def _missing_columns(path: Path, keys: list[str] | None) -> None:
    if keys is None:  # JSON Lines: keys differ per line, checked per row
        return
    absent = [f for f in REQUIRED_FIELDS if f not in keys]
    if absent:
        raise LandingError(
            path, f"missing required column(s) {', '.join(absent)} of the governance log "
            f"(it needs {', '.join(REQUIRED_FIELDS)}; docs/governance-log.md)"
        )


def land_governance_file(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    *,
    register: Register,
    salt: str,
    now: datetime | None = None,
    landing_run_id: str | None = None,
    timestamp_format: str | None = None,
    timezone: str | None = None,
) -> LandingResult:
    """Land one governance log in one transaction (see the module docstring); ``land_file`` with
    ``log_format='governance'`` calls this. Same refusals and ``already_loaded`` result as events."""
    from orchestration.lib.landing.load import CHANGED_WHILE_LANDING

    path = Path(path)
    fmt = file_format_of(path)
    if not path.is_file():
        raise LandingError(path, "no such file")
    try:
        check_timestamp_options(timestamp_format, timezone)
    except TimestampOptionError as exc:
        raise LandingError(path, str(exc)) from None
    ensure_raw_schema(con)
    con.execute("set TimeZone = 'UTC'")
    scan = scan_file(path)
    if scan.changed:
        raise LandingError(path, CHANGED_WHILE_LANDING, transient=True)
    previous = con.execute("select load_id, loaded_at from raw.load_ledger where file_sha256 = ?", [scan.sha256]).fetchone()
    if previous:
        return LandingResult(str(path), scan.sha256, "already_loaded", previous[0], loaded_at=previous[1])

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    load_id = uuid.uuid4().hex
    params = {
        "salt": salt, "now": now, "load_id": load_id, "source_file": str(path.resolve()),
        "future_limit": now + timedelta(hours=MAX_FUTURE_SKEW_HOURS), **timestamp_params(timestamp_format, timezone),
    }
    store_prompt_text = register.approvals.store_prompt_text
    with landing_transaction(con, path) as tx:
        keys = _read(con, path, fmt, scan.carriage_return)
        if scan.state != type(scan.state).of(path):
            raise LandingError(path, CHANGED_WHILE_LANDING, transient=True)
        _missing_columns(path, keys)
        tx.begin()
        _validate_and_load(con, register, params, store_prompt_text=store_prompt_text,
                           policy=register.data_controls.redaction.malformed_records)
        result = _record_load(con, path=path, scan=scan, fmt=fmt, load_id=load_id, now=now, landing_run_id=landing_run_id)
        tx.commit()
    return result
