"""The evidence pack (`command-center evidence --period YYYY-MM --out DIR`), a first version.

For one calendar month (UTC) it writes, as CSV / JSON plus a readable summary.md:

* rbac_map.csv: who can do what where (the register's rbac: each assignment's principal, role,
  each permission of the role, each workflow of its scope; ``*`` means every workflow);
* residency_map.csv: per region of data_controls.residency its controls (PII masking, retention,
  EU-only processing), the workflows the register runs there, and the events of the period landed
  for it (regions the register does not list included, so an undeclared region shows);
* retention.json: the retention settings (per region, the default, the earliest event date);
* landing_ledger.csv: the ledger entries landed in the period: who (OS user, Dagster run), from
  which host and process, what file (sha256), the counts, the chain sequence and hashes;
* chain_verification.json: `command-center verify --json` of the whole warehouse;
* MANIFEST.sha256: the sha256 of every file above and of summary.md (``sha256sum -c`` format).

* retention_purges.csv: the retention purges run in the period (orchestration/lib/retention.py): per
  purge, region and raw table the rows deleted, oldest / newest timestamp, cutoff, who ran it, its chain entry;

* governance_log.csv, approval_compliance.csv, governance_violations.csv, governance_compliance.json: the
  governance log's actions of the period (prompt hashes only, never text), the runs of high-risk playbooks
  with their approval checks (fct_playbook_executions) and the violations (fct_governance_violations)
  (orchestration/lib/audit/governance_evidence.py).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib import retention
from orchestration.lib.audit import governance_evidence
from orchestration.lib.audit.ledger import Verification, run_verify
from orchestration.lib.register import Register
from orchestration.lib.residency import warehouse_description

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
NOT_YET_COVERED: tuple[str, ...] = ()
LEDGER_COLUMNS = (
    "chain_seq", "load_id", "loaded_at", "landed_by_user", "landed_on_host", "landed_by_pid", "landing_run_id",
    "file_path", "file_sha256", "file_format", "log_format", "file_bytes", "rows_read", "rows_loaded",
    "rows_quarantined", "loaded_fingerprint", "quarantine_fingerprint", "chain_origin", "prev_hash", "entry_hash",
)


class EvidenceError(ValueError):
    """A bad period or output folder."""


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month ``YYYY-MM`` (UTC, naive)."""
    m = PERIOD.match(period or "")
    if not m:
        raise EvidenceError(f"--period must be a month YYYY-MM (e.g. 2026-11), not {period!r}")
    year, month = int(m.group(1)), int(m.group(2))
    return datetime(year, month, 1), datetime(year + (month == 12), month % 12 + 1, 1)


def _write_csv(path: Path, header: list[str], rows: list) -> int:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return len(rows)


def rbac_rows(register: Register) -> list[tuple]:
    permissions = {r.name: r.permissions for r in register.rbac.roles}
    return [
        ("user" if a.user else "group", a.user or a.group, a.role, p, scope)
        for a in register.rbac.assignments for scope in a.scope for p in (permissions.get(a.role) or ["(none)"])
    ]


def residency_rows(register: Register, landed: dict[tuple[str, str], int]) -> list[tuple]:
    """One row per (region, workflow): the region's controls, whether the register runs the workflow
    there, and the events of the period landed for it."""
    runs_in = {(r, o.workflow_id) for o in register.owners for r in o.regions}
    pairs = sorted(runs_in | set(landed))
    rows = []
    for region, workflow in pairs:
        res = register.data_controls.residency.get(region)
        rows.append((
            region, "yes" if res else "no (not in data_controls.residency)",
            res.pii_masking if res else "", res.retention_days if res else register.telemetry.retention_days,
            res.eu_only_processing if res else "", workflow, (region, workflow) in runs_in, landed.get((region, workflow), 0),
        ))
    return rows


def _landed_in_period(con, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    return {
        (region, wf): n for region, wf, n in con.execute(
            "select region, workflow_id, count(*) from raw.workflow_events where event_ts >= ? and event_ts < ? group by 1, 2",
            [start, end],
        ).fetchall()
    }


def _ledger_rows(con, start: datetime, end: datetime) -> list[tuple]:
    return con.execute(
        f"select {', '.join(LEDGER_COLUMNS)} from raw.load_ledger where loaded_at >= ? and loaded_at < ? "
        "order by chain_seq nulls last, loaded_at",
        [start, end],
    ).fetchall()


def _summary(period: str, register_path: Path, verification: Verification, counts: dict, generated_at: datetime) -> str:
    v = verification
    lines = [
        f"# Evidence pack, {period}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M:%S} UTC from the warehouse and the register `{register_path}`.",
        "Every file of this folder is listed with its sha256 in `MANIFEST.sha256` (check: `sha256sum -c MANIFEST.sha256`).",
        "",
        "## Chain verification (`chain_verification.json`)",
        "",
        f"**{'INTACT' if v.intact else 'BROKEN'}**: the load ledger holds {v.entries} entries, {v.chained} chained "
        f"({v.origins.get('migration', 0)} chained at migration: changes before it cannot be detected); "
        f"{v.events_checked} events and {v.quarantine_checked} quarantine rows recomputed.",
        f"Head of the chain: seq {v.head_seq}, `{v.head_hash}` (keep it: `command-center verify --expect-head` "
        "checks that no newer entry was removed and the chain was not rewritten).",
    ]
    if not v.intact:
        lines += ["", f"{len(v.breaks)} break(s); the first:", "", f"- {v.breaks[0].line('load_ledger')}"]
        lines += [f"- {b.line('load_ledger')}" for b in v.breaks[1:10]]
        if len(v.breaks) > 10:
            lines.append(f"- ... and {len(v.breaks) - 10} more (chain_verification.json)")
    lines += [
        "",
        "## RBAC map (`rbac_map.csv`)",
        "",
        f"{counts['rbac']} rows: principal (user or group), role, permission, workflow scope (`*`: every workflow), "
        "from the register's `rbac` (group members: `rbac.groups`). On DuckDB every publish writes per-role governed "
        "views (`governed_<role>`: rows of the role's workflows, person fields masked without `read_pii`) into the "
        "published file - a convenience, since access to a DuckDB file itself is all or nothing (per-role files are "
        "the boundary); on Snowflake the roles get grants on the marts, a row access policy keyed on workflow scope "
        "and masking policies on person and redacted fields (docs/rbac.md).",
        "",
        "## Residency map (`residency_map.csv`) and retention (`retention.json`)",
        "",
        f"{counts['residency']} rows: per region its controls (PII masking, retention days, EU-only processing), "
        "the workflows the register runs there, and the events of the period landed for each. A region marked "
        "`no` is not declared in `data_controls.residency`.",
        "",
        "## Landing ledger (`landing_ledger.csv`)",
        "",
        f"{counts['ledger']} loads landed in {period} (by `loaded_at`, UTC): who landed each (OS user, Dagster "
        "run id), from which host and process, the file and its sha256, rows read / loaded / quarantined, the "
        "content fingerprints and the chain's sequence and hashes.",
        "",
        *retention.evidence_summary_lines(period, counts["purges"], counts["purge_rows"]),
        *governance_evidence.summary_lines(period, counts["governance"]),
        *(["## Not yet covered", "", *[f"- {item}" for item in NOT_YET_COVERED], ""] if NOT_YET_COVERED else []),
    ]
    return "\n".join(lines)


def write_evidence_pack(*, period: str, out: Path, duckdb_path: Path, register: Register, register_path: Path,
                        now: datetime | None = None) -> Verification:
    """Write the pack to ``out`` (created; must be empty or absent); returns the chain verification."""
    from orchestration.lib.warehouse import connect

    start, end = period_bounds(period)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EvidenceError(f"--out {out} exists and is not an empty folder; an evidence pack is written to a new one")
    verification = run_verify(duckdb_path)  # migrates a ledger without a chain, so the extract shows its columns
    out.mkdir(parents=True, exist_ok=True)
    con = connect(duckdb_path, read_only=True)
    try:
        landed = _landed_in_period(con, start, end)
        ledger = _ledger_rows(con, start, end)
        purge_rows, purges = retention.evidence_rows(con, start, end)  # orchestration/lib/retention.py
        governance = governance_evidence.governance_rows(con, start, end)
    finally:
        con.close()
    counts = {
        "rbac": _write_csv(out / "rbac_map.csv", ["principal_type", "principal", "role", "permission", "scope"],
                           rbac_rows(register)),
        "residency": _write_csv(
            out / "residency_map.csv",
            ["region", "declared", "pii_masking", "retention_days", "eu_only_processing", "workflow_id",
             "registered_in_region", "events_in_period"], residency_rows(register, landed)),
        "ledger": _write_csv(out / "landing_ledger.csv", list(LEDGER_COLUMNS), ledger),
        "purges": len(purges),
        "purge_rows": _write_csv(out / "retention_purges.csv", list(retention.EVIDENCE_COLUMNS), purge_rows),
        "governance": governance["summary"],
    }
    _write_csv(out / "governance_log.csv", list(governance_evidence.LOG_COLUMNS), governance["log"])
    _write_csv(out / "approval_compliance.csv", list(governance_evidence.COMPLIANCE_COLUMNS), governance["runs"])
    _write_csv(out / "governance_violations.csv", list(governance_evidence.VIOLATION_COLUMNS), governance["violations"])
    (out / "governance_compliance.json").write_text(json.dumps(governance["summary"], indent=2) + "\n", encoding="utf-8")
    retention_json = {
        "warehouse": warehouse_description(register),
        "default_retention_days": register.telemetry.retention_days,
        "earliest_event_date": str(register.telemetry.earliest_event_date or "") or None,
        "regions": {r: {"retention_days": c.retention_days, "pii_masking": c.pii_masking,
                        "eu_only_processing": c.eu_only_processing}
                    for r, c in sorted(register.data_controls.residency.items())},
        "purges": purges,
    }
    (out / "retention.json").write_text(json.dumps(retention_json, indent=2) + "\n", encoding="utf-8")
    (out / "chain_verification.json").write_text(json.dumps(verification.as_dict(), indent=2, default=str) + "\n",
                                                 encoding="utf-8")
    generated = now or datetime.now(UTC).replace(tzinfo=None)
    (out / "summary.md").write_text(_summary(period, register_path, verification, counts, generated), encoding="utf-8")
    manifest = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
        for p in sorted(out.iterdir()) if p.is_file() and p.name != "MANIFEST.sha256"
    ]
    (out / "MANIFEST.sha256").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    return verification
