"""The backtest's scoring (pure) and the register's operations section, on hand-made inputs."""
from __future__ import annotations

import copy

import pytest
import yaml

from orchestration.lib.operations.backtest import BacktestError, parse_cutoff, score_rows
from orchestration.lib.register import RegisterError, load_register, parse_register, register_rows
from orchestration.settings import REPO_ROOT


def _row(**kw):
    base = {"run_key": "k", "workflow_id": "w", "elapsed_seconds": 100.0, "cycle_time_slo_seconds": 1000.0,
            "prediction_basis": "stage_and_elapsed", "predicted_remaining_seconds": 500.0,
            "baseline_remaining_seconds": 300.0, "is_at_risk": False, "baseline_is_at_risk": False,
            "is_past_slo": False, "final_status": "completed", "cycle_time_seconds": 700.0,
            "actual_remaining_seconds": 600.0, "elapsed_at_data_end_seconds": 5000.0}
    base.update(kw)
    return base


def test_score_rows_by_hand():
    """a: completed, errors |500-600| = 100 (model), |300-600| = 300 (baseline); no breach, both say no.
    b: completed in 1200 s > SLO 1000: breached; model says yes (tp), baseline no (fn); errors
    |900-1100| = 200 and |100-1100| = 1000. c: still in flight at the end, 5000 s > SLO: breached, not in
    the MAE; both say yes, but it was already past the SLO at the cut-off (only the all-runs figures).
    d: failed: in neither figure. e: no prediction: not in the MAE; model says yes, actual no (fp).
    MAE model (100 + 200) / 2 = 150 s, baseline (300 + 1000) / 2 = 650 s."""
    rows = [
        _row(run_key="a"),
        _row(run_key="b", predicted_remaining_seconds=900.0, baseline_remaining_seconds=100.0, is_at_risk=True,
             cycle_time_seconds=1200.0, actual_remaining_seconds=1100.0),
        _row(run_key="c", final_status="in_flight", is_at_risk=True, baseline_is_at_risk=True, is_past_slo=True,
             elapsed_seconds=1500.0, cycle_time_seconds=None, actual_remaining_seconds=None),
        _row(run_key="d", final_status="failed", is_at_risk=True),
        _row(run_key="e", prediction_basis="none", predicted_remaining_seconds=None, is_at_risk=True),
    ]
    s = score_rows("t", rows)
    assert (s.in_flight, s.completed, s.failed, s.still_in_flight) == (5, 3, 1, 1)
    assert s.mae_n == 2
    assert s.model_mae_hours == pytest.approx(150 / 3600) and s.baseline_mae_hours == pytest.approx(650 / 3600)
    assert s.known_breach == 4 and s.past_slo_at_cutoff == 1
    assert (s.model.tp, s.model.fp, s.model.fn, s.model.tn) == (2, 1, 0, 1)
    assert (s.baseline.tp, s.baseline.fp, s.baseline.fn, s.baseline.tn) == (1, 0, 1, 2)
    assert s.model.precision == pytest.approx(2 / 3) and s.model.recall == 1.0
    assert (s.model_open.tp, s.model_open.fp, s.model_open.fn, s.model_open.tn) == (1, 1, 0, 1)
    assert s.baseline_open.precision is None and s.baseline_open.recall == 0.0


def test_unknown_outcome_is_left_out():
    """Still in flight at the end of the data and not yet past the SLO: nobody knows; no SLO: no verdict."""
    s = score_rows("t", [_row(final_status="in_flight", elapsed_at_data_end_seconds=900.0),
                         _row(cycle_time_slo_seconds=None, baseline_is_at_risk=None)])
    assert s.known_breach == 0 and s.mae_n == 1


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-11-20T12:00:00+01:00"])
def test_bad_cutoffs_are_refused(text):
    with pytest.raises(BacktestError, match="--cutoff"):
        parse_cutoff(text)


def _register_data() -> dict:
    return yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())


def test_stuck_thresholds_default_from_the_cycle_time_slo():
    register = load_register(REPO_ROOT / "command_center.yml")
    rows = register_rows(register)["stuck_thresholds"]
    by_key = {(wf, stage): (minutes, default) for wf, stage, minutes, default in rows}
    # fulfillment_v2: p90 2.5 h -> 0.5 x 150 min = 75 min, derived
    assert by_key[("fulfillment_v2", None)] == (75.0, True)
    assert by_key[("supplier_onboarding_v1", "collect_documents")] == (1440.0, False)
    assert {wf for wf, stage in by_key if stage is None} == set(register.workflow_ids)


def test_a_declared_workflow_row_replaces_the_default():
    data = copy.deepcopy(_register_data())
    data["operations"] = {"default_stuck_share_of_cycle_slo": 1.0,
                          "stuck_thresholds": [{"workflow_id": "fulfillment_v2", "threshold_minutes": 10}]}
    rows = register_rows(parse_register(data))["stuck_thresholds"]
    assert [r for r in rows if r[0] == "fulfillment_v2"] == [("fulfillment_v2", None, 10.0, False)]
    assert ("invoice_posting_v1", None, 120.0, True) in rows  # 1.0 x 2 h


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"workflow_id": "fulfillment_v2", "threshold_minutes": -5},
         "operations.stuck_thresholds[1].threshold_minutes: must be greater than 0"),
        ({"workflow_id": "fulfillment_v2", "threshold_minutes": 0},
         "operations.stuck_thresholds[1].threshold_minutes: must be greater than 0"),
        ({"workflow_id": "nope_v1", "threshold_minutes": 5},
         "operations.stuck_thresholds[1].workflow_id: unknown workflow 'nope_v1'"),
        ({"workflow_id": "supplier_onboarding_v1", "stage": "collect_documents", "threshold_minutes": 5},
         "operations.stuck_thresholds[1]: duplicate of operations.stuck_thresholds[0]"),
        ({"workflow_id": "fulfillment_v2", "threshold_minutes": 5, "stgae": "x"},
         "operations.stuck_thresholds[1].stgae: is not a known field"),
    ],
)
def test_bad_stuck_thresholds_name_the_path(entry, message):
    data = copy.deepcopy(_register_data())
    data["operations"]["stuck_thresholds"].append(entry)
    with pytest.raises(RegisterError) as info:
        parse_register(data)
    assert any(e.startswith(message) for e in info.value.errors), info.value.errors


def test_an_unknown_stage_is_fine():
    data = copy.deepcopy(_register_data())
    data["operations"]["stuck_thresholds"].append(
        {"workflow_id": "fulfillment_v2", "stage": "not_a_stage_we_know", "threshold_minutes": 5})
    assert parse_register(data).operations.stuck_thresholds[-1].stage == "not_a_stage_we_know"
