"""The register drives the marts: change a target in command_center.yml, rebuild, and the verdicts move.

The session's shared warehouse (tests/conftest.py) is built with the shipped register. A copy of it is
rebuilt once with the real `command-center build` (which re-lands the register and runs `dbt build`)
after four edits to a copy of the register; each test compares its marts before and after. The edits
touch disjoint things (fulfillment's exception SLOs, invoice posting's cycle-time SLO, the POLICY class's
routing, inventory sync's budget and fin-ops' labor rate), so one rebuild serves all four tests instead
of four (each rebuild is a full `dbt build`: the slowest part of this module).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from orchestration.cli import main
from orchestration.lib.warehouse import connect
from orchestration.settings import REPO_ROOT


def _owner(register: dict, workflow_id: str) -> dict:
    return next(o for o in register["owners"] if o["workflow_id"] == workflow_id)


def loosen_fulfillment_exception_slos(register: dict) -> None:
    sla = _owner(register, "fulfillment_v2")["sla"]
    sla["exception_first_touch_minutes"] = 100_000
    sla["exception_resolution_hours"] = 10_000


def tighten_invoice_cycle_time(register: dict) -> None:
    _owner(register, "invoice_posting_v1")["sla"]["cycle_time_p90_hours"] = 0.001  # 3.6 seconds


def reroute_policy_exceptions(register: dict) -> None:
    next(c for c in register["exceptions"]["classes"] if c["code"] == "POLICY")["route_to"] = "night-desk@company.com"


def raise_inventory_budget_and_fin_ops_rate(register: dict) -> None:
    _owner(register, "inventory_sync_v1")["exception_budget"]["monthly_rate_pct"] = 100.0
    register["cost_model"]["labor_rates_per_hour"]["fin-ops"] = 124.0


EDITS = (loosen_fulfillment_exception_slos, tighten_invoice_cycle_time, reroute_policy_exceptions,
         raise_inventory_budget_and_fin_ops_rate)


@pytest.fixture(scope="module")
def baseline(shared_warehouse) -> Path:
    """The session's shared warehouse (tests/conftest.py), built with the shipped register. Read only."""
    return shared_warehouse.db


@pytest.fixture(scope="module")
def rebuilt(shared_warehouse, tmp_path_factory, cc_env) -> Path:
    """A copy of the shared warehouse rebuilt with every edit of EDITS applied to the shipped register."""
    tmp = tmp_path_factory.mktemp("register_drives")
    db = tmp / "warehouse" / "command_center.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(shared_warehouse.db, db)
    register = yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())
    for edit in EDITS:
        edit(register)
    path = tmp / "command_center.yml"
    path.write_text(yaml.safe_dump(register, sort_keys=False))
    mp = pytest.MonkeyPatch()
    try:
        cc_env.apply(mp, tmp, duckdb=db)
        mp.setenv("COMMAND_CENTER_REGISTER", str(path))
        assert main(["build"]) == 0
    finally:
        mp.undo()
    return db


def _scalar(db: Path, sql: str):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def test_loosening_exception_slos_clears_breaches(baseline, rebuilt):
    count_breaches = """
        select count(*) filter (where first_touch_breached), count(*) filter (where resolution_breached),
               max(first_touch_target_seconds), max(resolution_target_seconds)
        from marts.fct_exceptions where workflow_id = 'fulfillment_v2'"""
    before = _scalar(baseline, count_breaches)
    assert before[0] > 0 and before[1] > 0, "the generated data should breach fulfillment's exception SLOs"
    assert before[2:] == (30 * 60.0, 4 * 3600.0)

    after = _scalar(rebuilt, count_breaches)
    assert after == (0, 0, 100_000 * 60.0, 10_000 * 3600.0)


def test_tightening_the_cycle_time_slo_moves_run_verdicts(baseline, rebuilt):
    within = """select count(*) filter (where within_slo), count(*) filter (where not within_slo)
                from marts.fct_workflow_runs where workflow_id = 'invoice_posting_v1'"""
    before = _scalar(baseline, within)
    assert before[0] > 0

    after = _scalar(rebuilt, within)
    assert after == (0, before[0] + before[1])


def test_rerouting_an_exception_class_changes_the_routed_owner(baseline, rebuilt):
    routed = """select count(*) filter (where routed_owner = 'night-desk@company.com'),
                       count(*) filter (where exception_class = 'POLICY')
                from marts.fct_exceptions"""
    before = _scalar(baseline, routed)
    assert before[0] == 0 and before[1] > 0

    after = _scalar(rebuilt, routed)
    assert after[0] == after[1] == before[1]


def test_budget_and_labor_rate_edits_move_budget_status_and_cost(baseline, rebuilt):
    budget = """select count(*) filter (where is_breached), count(*), max(budget_rate_pct)
                from marts.agg_exception_budget_monthly where workflow_id = 'inventory_sync_v1'"""
    labor = """select sum(labor_hours), sum(labor_cost) from marts.agg_cost_to_serve_weekly
               where grain = 'workflow' and owner_team = 'fin-ops'"""
    before_budget, before_labor = _scalar(baseline, budget), _scalar(baseline, labor)
    assert before_budget[0] > 0, "inventory sync should overspend its 4% budget in the generated data"
    assert before_labor[0] > 0 and before_labor[1] == pytest.approx(before_labor[0] * 62.0)

    db = rebuilt
    assert _scalar(db, budget) == (0, before_budget[1], 100.0)
    after_labor = _scalar(db, labor)
    assert after_labor[0] == pytest.approx(before_labor[0])  # the same hours...
    assert after_labor[1] == pytest.approx(before_labor[1] * 2)  # ...at twice the rate
