"""The demo summary's "what is happening now" lines, read from the published marts
(agg_runs_in_flight, agg_runs_at_risk): stuck runs by age, the longest stuck, the runs at risk."""
from __future__ import annotations

from orchestration.lib.reports import format_table

TOP = 5


def _h(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}h"


def stuck_by_age_rows(con) -> list[tuple]:
    """(age bucket, runs in flight, stuck runs) per bucket of time in state, youngest bucket first."""
    return con.execute(
        """select in_state_age_bucket, count(*), sum(case when is_stuck then 1 else 0 end)
           from marts.agg_runs_in_flight
           group by in_state_age_bucket, in_state_age_bucket_order
           order by in_state_age_bucket_order"""
    ).fetchall()


def stuck_rows(con, limit: int = TOP) -> list[tuple]:
    return con.execute(
        """select run_id, workflow_id, coalesce(current_stage, '(none)'), waits_on, seconds_in_state,
                  stuck_threshold_seconds, stuck_threshold_source
           from marts.agg_runs_in_flight where is_stuck order by stuck_rank limit ?""",
        [limit],
    ).fetchall()


def at_risk_rows(con, limit: int = TOP) -> list[tuple]:
    return con.execute(
        """select run_id, workflow_id, coalesce(current_stage, '(none)'), elapsed_seconds, cycle_time_slo_seconds,
                  predicted_remaining_seconds, breach_probability, prediction_basis
           from marts.agg_runs_at_risk where is_at_risk and not is_past_slo order by risk_rank limit ?""",
        [limit],
    ).fetchall()


def operations_section(con) -> list[str]:
    """The lines the demo prints (empty marts: say so)."""
    by_age = stuck_by_age_rows(con)
    in_flight = sum(n for _, n, _ in by_age)
    stuck = sum(s for _, _, s in by_age)
    lines = [f"Runs in flight now: {in_flight}, stuck {stuck} (longer in one state than the register's threshold)."]
    if by_age:
        lines += ["Stuck runs by age (time in the current state):",
                  format_table(["age in state", "in flight", "stuck"], by_age), ""]
    top = stuck_rows(con)
    lines += [
        f"Top {TOP} stuck runs (longest in their state first):",
        format_table(
            ["stuck run", "workflow", "stage", "waits on", "in state", "threshold", "threshold from"],
            [(r, w, s, wo, _h(t), _h(th), src) for r, w, s, wo, t, th, src in top],
        ) if top else "  none stuck",
        "",
    ]
    risk = at_risk_rows(con)
    past, at_risk = con.execute(
        "select count(*) filter (where is_past_slo), count(*) filter (where is_at_risk and not is_past_slo) "
        "from marts.agg_runs_at_risk"
    ).fetchone()
    lines += [
        f"Runs in flight past their cycle-time SLO already: {past}; at risk of breaching it: {at_risk}.",
        f"Runs at risk (top {TOP} not yet past the SLO; P(breach) >= 0.5, learned from completed runs):",
        format_table(
            ["at-risk run", "workflow", "stage", "elapsed", "SLO", "predicted remaining", "P(breach)", "basis"],
            [(r, w, s, _h(e), _h(slo), _h(rem), f"{p:.2f}", b) for r, w, s, e, slo, rem, p, b in risk],
        ) if risk else "  none at risk",
        "",
    ]
    return lines
