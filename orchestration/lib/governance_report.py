"""The demo summary's governance lines, read from the published marts (agg_governance_violations_weekly,
fct_playbook_executions): per workflow, the governance violations found in the governance log, by type,
and who they are routed to; and how many high-risk playbook runs were compliant
(models/marts/governance_audit/_governance_audit__docs.md). Nothing recomputed: sums of the marts."""
from __future__ import annotations

from orchestration.lib.reports import _relation_exists, format_table


def violation_rows(con) -> list[tuple]:
    """Per workflow with a violation: its routed owner, the total and the non-zero types (type count, ...)."""
    return con.execute(
        """with per_type as (
               select workflow_id, coalesce(routed_owner, '(unregistered)') as routed_owner, violation_type,
                      sum(violations) as violations
               from marts.agg_governance_violations_weekly
               group by all
               having sum(violations) > 0
           )
           select workflow_id, routed_owner, sum(violations),
                  string_agg(violation_type || ' ' || violations, ', ' order by violations desc, violation_type)
           from per_type
           group by workflow_id, routed_owner
           order by sum(violations) desc, workflow_id"""
    ).fetchall()


def governance_section(con) -> list[str]:
    if not _relation_exists(con, "marts", "agg_governance_violations_weekly"):
        return []
    runs, compliant = con.execute(
        "select count(*), count(*) filter (where is_compliant) from marts.fct_playbook_executions").fetchone()
    rows = violation_rows(con)
    total = sum(r[2] for r in rows)
    lines = ["", f"Governance audit: {compliant} of {runs} high-risk playbook runs compliant; {total} violations in "
                 "the governance log (fct_governance_violations)."]
    if rows:
        lines += ["Governance violations per workflow:",
                  format_table(["workflow", "routed to", "violations", "by type"], rows)]
    return lines
