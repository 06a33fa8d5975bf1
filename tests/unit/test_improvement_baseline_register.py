"""The register's optional owners[].baseline (agg_improvement_vs_baseline's baseline window):
defaults, landing rows, and readable errors for a start that is not a Monday or a bad length."""
from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml

from orchestration.lib.register import RegisterError, parse_register, register_rows
from orchestration.settings import REPO_ROOT


@pytest.fixture(scope="module")
def base() -> dict:
    return yaml.safe_load((REPO_ROOT / "command_center.yml").read_text())


def test_default_baseline_is_six_weeks_from_the_first_full_week(base):
    rows = {r[0]: r for r in register_rows(parse_register(copy.deepcopy(base)))["improvement_baselines"]}
    assert set(rows) == {o["workflow_id"] for o in base["owners"]}
    assert all(start is None and weeks == 6 for _, start, weeks in rows.values())


def test_declared_baseline_lands(base):
    data = copy.deepcopy(base)
    data["owners"][1]["baseline"] = {"start_week": date(2026, 9, 7), "weeks": 4}  # YAML dates parse to date
    data["owners"][2]["baseline"] = {"start_week": "2026-09-14"}
    rows = {r[0]: r for r in register_rows(parse_register(data))["improvement_baselines"]}
    assert rows[data["owners"][1]["workflow_id"]][1:] == (date(2026, 9, 7), 4)
    assert rows[data["owners"][2]["workflow_id"]][1:] == (date(2026, 9, 14), 6)


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ({"start_week": "2026-09-08"}, "owners[0].baseline.start_week: must be a Monday (the start of an ISO week), "
                                       "got 2026-09-08 (a Tuesday)"),
        ({"weeks": 0}, "owners[0].baseline.weeks: must be greater than or equal to 1"),
        ({"weeks": 53}, "owners[0].baseline.weeks: must be less than or equal to 52"),
        ({"start": "2026-09-07"}, "owners[0].baseline.start: is not a known field"),
    ],
)
def test_bad_baseline_is_refused_with_its_path(base, baseline, message):
    data = copy.deepcopy(base)
    data["owners"][0]["baseline"] = baseline
    with pytest.raises(RegisterError) as info:
        parse_register(data, "test.yml")
    assert message in info.value.errors
