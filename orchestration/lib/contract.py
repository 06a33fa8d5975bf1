"""The event contract: one place that names the fields, their types, the event types and the
quarantine reason codes. docs/event-contract.md is the prose version of this module; landing,
the generator, the dbt sources and the tests all import from here.
"""
from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "run_started",
    "stage_started",
    "stage_completed",
    "stage_retried",
    "stage_timed_out",
    "approval_requested",
    "approval_granted",
    "approval_rejected",
    "exception_raised",
    "exception_acknowledged",
    "exception_resolved",
    "run_completed",
    "run_failed",
    "run_compensated",
)

TERMINAL_EVENT_TYPES: tuple[str, ...] = ("run_completed", "run_failed", "run_compensated")
EXCEPTION_EVENT_TYPES: tuple[str, ...] = ("exception_raised", "exception_acknowledged", "exception_resolved")

#: Required fields of the telemetry shape, in contract order.
REQUIRED_FIELDS: tuple[str, ...] = ("event_id", "workflow_id", "run_id", "event_type", "event_ts", "region")

#: Optional fields and the warehouse type each is cast to. "json" means a JSON object.
OPTIONAL_FIELDS: dict[str, str] = {
    "stage": "VARCHAR",
    "status": "VARCHAR",
    "owner": "VARCHAR",
    "duration_ms": "BIGINT",
    "cost_cents": "DOUBLE",
    "confidence": "DOUBLE",
    "exception_id": "VARCHAR",
    "exception_class": "VARCHAR",
    "severity": "INTEGER",
    "actor": "VARCHAR",
    "attempt": "INTEGER",
    "error_code": "VARCHAR",
    "attributes": "JSON",
}

TELEMETRY_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + tuple(OPTIONAL_FIELDS)

#: The minimum viable event log (seed 001): case_id, event_name, timestamp and actor, plus any optional
#: columns. A missing actor is unknown, not invalid (system steps have none; some logs have no resource
#: column at all): such events land with a null actor. The other three are required.
MINIMAL_REQUIRED_FIELDS: tuple[str, ...] = ("case_id", "event_name", "timestamp")
#: Every contract field of a minimal log (what --map may name, with event_id and region).
MINIMAL_FIELDS: tuple[str, ...] = (*MINIMAL_REQUIRED_FIELDS, "actor")

#: Longest accepted identifier (event_id, workflow_id, run_id, region, exception_id, ...).
MAX_IDENTIFIER_LENGTH = 256
#: How far in the future (relative to landing time) an event_ts may be.
MAX_FUTURE_SKEW_HOURS = 24

#: Quarantine reason codes, in the order they are tested (a row gets the first that applies).
REASON_CODES: dict[str, str] = {
    "malformed_record": "the record could not be parsed (invalid JSON, not a JSON object, wrong number of CSV columns, invalid UTF-8)",
    "missing_required_field": "a required field is absent, null or blank (reason_detail names it)",
    "invalid_identifier": "an identifier is longer than 256 characters or contains control characters",
    "residency_violation": "the row's region has eu_only_processing and the warehouse's jurisdiction (data_controls.warehouse) is not EU or not declared; raw_record keeps only a salted hash (docs/residency.md)",
    "unparseable_timestamp": "event_ts is not an ISO 8601 timestamp",
    "unknown_event_type": "event_type is not one of the contract's event types",
    "invalid_type": "an optional field has the wrong type (a number field that is not a number, attributes that is not a JSON object)",
    "out_of_range": "a number field is a number but outside what the warehouse stores (duration_ms beyond 64-bit, severity or attempt beyond 32-bit integers)",
    "negative_value": "duration_ms, cost_cents or attempt is negative",
    "confidence_out_of_range": "confidence is outside 0..1",
    "missing_exception_id": "an exception_* event carries no exception_id",
    "future_timestamp": "event_ts is more than 24 hours after the landing time",
    "expired": "event_ts is older than the register's retention for the row's region (data_controls.residency, else telemetry.retention_days) or than telemetry.earliest_event_date (reason_detail gives the bound)",
    "duplicate_event_id_in_file": "the event_id already occurred earlier in the same file (the first valid occurrence is loaded)",
    "duplicate_event_id": "the event_id was loaded by an earlier file",
}

RAW_SCHEMA = "raw"
GOVERNANCE_SCHEMA = "governance"

RAW_EVENTS_DDL = f"""
create table if not exists {RAW_SCHEMA}.workflow_events (
    event_id            varchar not null,   -- unique: enforced by landing (anti-join), tested by dbt
    workflow_id         varchar not null,
    run_id              varchar not null,
    event_type          varchar not null,
    event_ts            timestamp not null,   -- UTC, no offset
    region              varchar not null,
    stage               varchar,
    status              varchar,
    owner               varchar,
    duration_ms         bigint,
    cost_cents          double,
    confidence          double,
    exception_id        varchar,
    exception_class     varchar,
    severity            integer,
    actor               varchar,
    attempt             integer,
    error_code          varchar,
    attributes          json,                 -- redacted fields already hashed
    log_format          varchar not null,     -- 'telemetry' or 'minimal'
    source_event_name   varchar,              -- minimal logs: the original event_name
    load_id             varchar not null,
    source_file         varchar not null,
    source_row_number   bigint not null,
    loaded_at           timestamp not null
)
"""

QUARANTINE_DDL = f"""
create table if not exists {RAW_SCHEMA}.quarantine (
    load_id             varchar not null,
    source_file         varchar not null,
    source_row_number   bigint,
    reason_code         varchar not null,
    reason_detail       varchar,
    raw_record          varchar,              -- the row as read, redacted fields hashed or masked
    event_id            varchar,
    workflow_id         varchar,
    quarantined_at      timestamp not null
)
"""

LEDGER_DDL = f"""
create table if not exists {RAW_SCHEMA}.load_ledger (
    load_id             varchar not null primary key,
    file_sha256         varchar not null unique,
    file_path           varchar not null,
    file_format         varchar not null,     -- jsonl, csv, parquet
    log_format          varchar not null,     -- telemetry, minimal
    file_bytes          bigint not null,
    rows_read           bigint not null,
    rows_loaded         bigint not null,
    rows_quarantined    bigint not null,
    loaded_at           timestamp not null,
    -- who landed it (LEDGER_MIGRATIONS add these to warehouses created before them; null there)
    landed_by_user      varchar,
    landed_on_host      varchar,
    landed_by_pid       integer,
    landing_run_id      varchar,              -- the Dagster run id (null from the CLI)
    -- content fingerprint of the loaded rows (LOADED_ROW_FINGERPRINT_SQL), recomputed by dbt
    first_event_ts      timestamp,            -- earliest event_ts loaded (retention purges cut below it)
    loaded_fingerprint  decimal(38, 0),
    check (rows_read = rows_loaded + rows_quarantined)
)
"""

#: Columns added to raw.load_ledger after it first shipped: warehouses created earlier get them on
#: their next landing (ensure_raw_schema runs RAW_DDL), null for their earlier loads.
LEDGER_MIGRATIONS: tuple[str, ...] = tuple(
    f"alter table {RAW_SCHEMA}.load_ledger add column if not exists {column}"
    for column in (
        "landed_by_user varchar",
        "landed_on_host varchar",
        "landed_by_pid integer",
        "landing_run_id varchar",
        "first_event_ts timestamp",
        "loaded_fingerprint decimal(38, 0)",
    )
)

#: The columns of raw.workflow_events that the ledger's fingerprint covers: every stored value except
#: the lineage stamped by the landing itself (load_id, source_file, loaded_at).
FINGERPRINTED_COLUMNS: tuple[str, ...] = (
    *REQUIRED_FIELDS, *OPTIONAL_FIELDS, "log_format", "source_event_name", "source_row_number",
)

#: One event row's fingerprint: the first 15 hex digits of md5 over its values as text, separated by
#: an unprintable character, nulls as an empty field and a marker. The load's fingerprint is the sum
#: over its rows (order-independent); dbt's macro loaded_row_fingerprint computes the same.
LOADED_ROW_FINGERPRINT_SQL = (
    "('0x' || left(md5(concat_ws(chr(31), "
    + ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in FINGERPRINTED_COLUMNS)
    + ")), 15))::bigint::hugeint"
)
#: The same value as LOADED_ROW_FINGERPRINT_SQL, spelled with ``concat`` and the separators as
#: arguments: every argument is non-null (coalesce), so the text hashed is identical, and DuckDB
#: builds it ~10% faster (landing computes it over every row it loads; dbt keeps the concat_ws form).
LOADED_ROW_FINGERPRINT_LANDING_SQL = (
    "('0x' || left(md5(concat("
    + ", chr(31), ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in FINGERPRINTED_COLUMNS)
    + ")), 15))::bigint::hugeint"
)

#: Files of the landing folder that were refused whole (unreadable content). The folder-landing batch
#: skips a file whose sha256 is here instead of failing on it at every run; a corrected file has new
#: content, hence a new sha256, and lands normally.
REFUSED_FILES_DDL = f"""
create table if not exists {RAW_SCHEMA}.refused_files (
    file_sha256         varchar not null primary key,
    file_path           varchar not null,
    problem             varchar not null,
    refused_at          timestamp not null
)
"""

#: The governance log (the orchestrator's action log, docs/governance-log.md): one row per action,
#: landed by orchestration/lib/landing/governance_log.py in the same ledger and hash chain as events.
#: The prompt is stored as a salted sha256 and its length; prompt_text only when the register allows.
GOVERNANCE_ACTIONS_DDL = f"""
create table if not exists {RAW_SCHEMA}.governance_actions (
    action_id           varchar not null,     -- unique: enforced by landing (anti-join)
    workflow_id         varchar not null,
    run_id              varchar,
    actor               varchar not null,
    actor_role          varchar,
    action              varchar not null,     -- tool_action, playbook_run, approval, modify_sla, assign_owner
    playbook            varchar,
    prompt_sha256       varchar,
    prompt_length       integer,
    prompt_text         varchar,              -- null unless approvals.store_prompt_text
    model_name          varchar,
    model_version       varchar,
    confidence          double,
    reviewer_id         varchar,
    decision            varchar,
    prechecks           varchar[],
    rollback            varchar,
    action_ts           timestamptz not null,
    attributes          json,                 -- redacted fields already hashed
    load_id             varchar not null,
    loaded_at           timestamptz not null,
    source_row_number   bigint
)
"""

#: The columns of raw.governance_actions its ledger fingerprint covers (every stored value except the
#: lineage stamped by the landing: load_id, loaded_at), and one row's fingerprint, built like
#: LOADED_ROW_FINGERPRINT_SQL; `command-center verify` recomputes the sum per load.
GOVERNANCE_FINGERPRINTED_COLUMNS: tuple[str, ...] = (
    "action_id", "workflow_id", "run_id", "actor", "actor_role", "action", "playbook", "prompt_sha256",
    "prompt_length", "prompt_text", "model_name", "model_version", "confidence", "reviewer_id", "decision",
    "prechecks", "rollback", "action_ts", "attributes", "source_row_number",
)
GOVERNANCE_ROW_FINGERPRINT_SQL = LOADED_ROW_FINGERPRINT_SQL.replace(
    ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in FINGERPRINTED_COLUMNS),
    ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in GOVERNANCE_FINGERPRINTED_COLUMNS),
)

RAW_DDL: tuple[str, ...] = (
    f"create schema if not exists {RAW_SCHEMA}",
    RAW_EVENTS_DDL,
    QUARANTINE_DDL,
    LEDGER_DDL,
    *LEDGER_MIGRATIONS,
    REFUSED_FILES_DDL,
    GOVERNANCE_ACTIONS_DDL,
)
