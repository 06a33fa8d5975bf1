"""``command-center backtest``: replay past cut-offs, predict, and score against what happened.

For each cut-off the warehouse is copied (opened read-only first, so no writer is mid-build) and the
prediction models are rebuilt on the copy with dbt var ``as_of`` pinned to the cut-off
(``PREDICTION_MODELS``): they read only events at or before ``as_of`` (docs/operations.md), so the
prediction sees nothing later. The copy's ``marts.agg_runs_at_risk`` is the prediction; the copy's
``marts.fct_workflow_runs`` and ``marts.dim_as_of`` (not rebuilt: built from every event) say what
actually happened. Scored per cut-off and pooled:

- remaining time: MAE (hours) over the runs that later completed and have a prediction, for the
  model (``predicted_remaining_seconds``) and the naive baseline (``baseline_remaining_seconds``:
  median cycle time - elapsed, floored at 0) on the same runs;
- "will breach" (``is_at_risk`` / ``baseline_is_at_risk``) against the actual breach (cycle time
  > SLO for a run that completed; for a run still in flight at the end of the data: breached when
  it was already past its SLO then, else unknown and left out; failed or compensated runs are left
  out): precision and recall, over all runs and over the runs not yet past their SLO at the cut-off
  (those are trivially at risk for both).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

#: rebuilt on the copy with the pinned as_of (everything else is read as built)
PREDICTION_MODELS = ("int_as_of", "int_runs_in_flight_states", "int_reference_run_stages",
                     "agg_runs_in_flight", "agg_runs_at_risk")

_OUTCOMES_SQL = """
select
    p.run_key,
    p.workflow_id,
    p.elapsed_seconds,
    p.cycle_time_slo_seconds,
    p.prediction_basis,
    p.predicted_remaining_seconds,
    p.baseline_remaining_seconds,
    p.is_at_risk,
    p.baseline_is_at_risk,
    p.is_past_slo,
    r.final_status,
    r.cycle_time_seconds,
    date_diff('microsecond', p.as_of_ts, r.ended_at) / 1e6 as actual_remaining_seconds,
    date_diff('microsecond', r.started_at, a.as_of_ts) / 1e6 as elapsed_at_data_end_seconds
from marts.agg_runs_at_risk as p
inner join marts.fct_workflow_runs as r on p.run_key = r.run_key
cross join marts.dim_as_of as a
where ? is null or p.workflow_id = ?
order by p.run_key
"""


class BacktestError(ValueError):
    """The backtest cannot run as asked (bad cut-off, no warehouse, wrong target)."""


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Score:
    """The figures of one cut-off (or of several, pooled)."""

    label: str
    in_flight: int = 0
    completed: int = 0
    failed: int = 0
    still_in_flight: int = 0
    mae_n: int = 0
    model_abs_error: float = 0.0
    baseline_abs_error: float = 0.0
    known_breach: int = 0
    past_slo_at_cutoff: int = 0
    model: Confusion = field(default_factory=Confusion)
    baseline: Confusion = field(default_factory=Confusion)
    model_open: Confusion = field(default_factory=Confusion)
    baseline_open: Confusion = field(default_factory=Confusion)

    @property
    def model_mae_hours(self) -> float | None:
        return self.model_abs_error / self.mae_n / 3600.0 if self.mae_n else None

    @property
    def baseline_mae_hours(self) -> float | None:
        return self.baseline_abs_error / self.mae_n / 3600.0 if self.mae_n else None

    def merge(self, other: Score) -> None:
        for name in ("in_flight", "completed", "failed", "still_in_flight", "mae_n", "model_abs_error",
                     "baseline_abs_error", "known_breach", "past_slo_at_cutoff"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("model", "baseline", "model_open", "baseline_open"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for k in ("tp", "fp", "fn", "tn"):
                setattr(mine, k, getattr(mine, k) + getattr(theirs, k))

    def as_dict(self) -> dict:
        def conf(c: Confusion) -> dict:
            return {"precision": c.precision, "recall": c.recall, "tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn}

        return {
            "label": self.label, "in_flight": self.in_flight, "completed": self.completed, "failed": self.failed,
            "still_in_flight": self.still_in_flight, "mae_runs": self.mae_n,
            "model_mae_hours": self.model_mae_hours, "baseline_mae_hours": self.baseline_mae_hours,
            "known_breach_runs": self.known_breach, "past_slo_at_cutoff": self.past_slo_at_cutoff,
            "model": conf(self.model), "baseline": conf(self.baseline),
            "model_not_yet_past_slo": conf(self.model_open), "baseline_not_yet_past_slo": conf(self.baseline_open),
        }


def _actual_breach(row: dict) -> bool | None:
    """True / False when what happened says so; None when unknown (or the run failed)."""
    slo = row["cycle_time_slo_seconds"]
    if slo is None:
        return None
    if row["final_status"] == "completed":
        return row["cycle_time_seconds"] > slo
    if row["final_status"] == "in_flight":
        return True if row["elapsed_at_data_end_seconds"] > slo else None
    return None


def score_rows(label: str, rows: list[dict]) -> Score:
    """Score predictions joined to outcomes (the columns of ``_OUTCOMES_SQL``); pure, unit-testable."""
    s = Score(label, in_flight=len(rows))
    for row in rows:
        status = row["final_status"]
        s.completed += status == "completed"
        s.failed += status in ("failed", "compensated")
        s.still_in_flight += status == "in_flight"
        if (status == "completed" and row["predicted_remaining_seconds"] is not None
                and row["baseline_remaining_seconds"] is not None):
            s.mae_n += 1
            s.model_abs_error += abs(row["predicted_remaining_seconds"] - row["actual_remaining_seconds"])
            s.baseline_abs_error += abs(row["baseline_remaining_seconds"] - row["actual_remaining_seconds"])
        actual = _actual_breach(row)
        if actual is None or row["baseline_is_at_risk"] is None:
            continue
        s.known_breach += 1
        s.model.add(bool(row["is_at_risk"]), actual)
        s.baseline.add(bool(row["baseline_is_at_risk"]), actual)
        if row["is_past_slo"]:
            s.past_slo_at_cutoff += 1
        else:
            s.model_open.add(bool(row["is_at_risk"]), actual)
            s.baseline_open.add(bool(row["baseline_is_at_risk"]), actual)
    return s


def parse_cutoff(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("T", " "))
    except ValueError:
        raise BacktestError(f"--cutoff {text!r}: not an ISO 8601 UTC timestamp like '2026-11-18 12:00:00'") from None
    if value.tzinfo is not None:
        raise BacktestError(f"--cutoff {text!r}: give UTC without an offset, e.g. '2026-11-18 12:00:00'")
    return value


@contextmanager
def _child_environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def predict_at(settings, cutoff: datetime, workdir: Path, workflow: str | None = None) -> list[dict]:
    """Copy the warehouse into ``workdir``, rebuild the prediction models as of ``cutoff``, and return
    each prediction joined to what happened (``_OUTCOMES_SQL``)."""
    from orchestration.lib.dbt import run_dbt
    from orchestration.lib.warehouse import connect

    if settings.dbt_target != "duckdb":
        raise BacktestError("the backtest runs on the DuckDB target (COMMAND_CENTER_DBT_TARGET=duckdb)")
    if not Path(settings.duckdb_path).exists():
        raise BacktestError(f"no warehouse at {settings.duckdb_path}: land and build first")
    copy = workdir / "backtest.duckdb"
    source = connect(settings.duckdb_path, read_only=True)  # fails fast while a writer holds the file
    try:
        built = source.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name in ('fct_workflow_runs', 'dim_as_of', 'agg_runs_at_risk')"
        ).fetchone()[0]
        if built < 3:
            raise BacktestError(f"the warehouse {settings.duckdb_path} has no built marts: run `command-center build` first")
        shutil.copy(settings.duckdb_path, copy)
    finally:
        source.close()
    as_of = cutoff.isoformat(sep=" ")
    child = {"DBT_TARGET_PATH": str(workdir / "target"), "DBT_LOG_PATH": str(workdir / "logs"),
             "COMMAND_CENTER_DUCKDB": str(copy)}
    with _child_environment(child):
        run_dbt(replace(settings, duckdb_path=copy),
                ["run", "--select", *PREDICTION_MODELS, "--vars", json.dumps({"as_of": as_of})])
    con = connect(copy, read_only=True)
    try:
        cur = con.execute(_OUTCOMES_SQL, [workflow, workflow])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_score(s: Score) -> str:
    def line(name: str, c: Confusion) -> str:
        return (f"    {name:<9} precision {_fmt(c.precision)}  recall {_fmt(c.recall)}"
                f"  (tp {c.tp}, fp {c.fp}, fn {c.fn}, tn {c.tn})")

    verdict = ""
    if s.model_mae_hours is not None and s.baseline_mae_hours is not None:
        verdict = "  -> the model beats the baseline" if s.model_mae_hours < s.baseline_mae_hours else \
            "  -> the model does NOT beat the baseline"
    return "\n".join([
        f"{s.label}: {s.in_flight} runs in flight (later completed {s.completed}, failed or compensated "
        f"{s.failed}, still in flight at the end of the data {s.still_in_flight})",
        f"  remaining time MAE over {s.mae_n} completed runs: model {_fmt(s.model_mae_hours)} h, "
        f"baseline {_fmt(s.baseline_mae_hours)} h{verdict}",
        f"  will breach the cycle-time SLO, {s.known_breach} runs with a known outcome "
        f"({s.past_slo_at_cutoff} already past the SLO at the cut-off):",
        line("model", s.model), line("baseline", s.baseline),
        f"  ... of those, the {s.known_breach - s.past_slo_at_cutoff} not yet past the SLO at the cut-off:",
        line("model", s.model_open), line("baseline", s.baseline_open),
    ])


def run_backtest(settings, cutoffs: list[datetime], workflow: str | None = None) -> list[Score]:
    """One Score per cut-off, then the pooled Score when there are several."""
    scores: list[Score] = []
    with tempfile.TemporaryDirectory(prefix="backtest-", dir=Path(settings.duckdb_path).parent) as tmp:
        for i, cutoff in enumerate(cutoffs):
            workdir = Path(tmp) / f"cutoff{i}"
            workdir.mkdir()
            rows = predict_at(settings, cutoff, workdir, workflow)
            scores.append(score_rows(f"cut-off {cutoff.isoformat(sep=' ')}", rows))
            (workdir / "backtest.duckdb").unlink(missing_ok=True)
    if len(scores) > 1:
        pooled = Score(f"pooled over {len(scores)} cut-offs")
        for s in scores:
            pooled.merge(s)
        scores.append(pooled)
    return scores


def cmd_backtest(args, settings) -> int:
    from orchestration.cli import CliError

    try:
        cutoffs = [parse_cutoff(c) for c in args.cutoff]
        scores = run_backtest(settings, cutoffs, args.workflow)
    except BacktestError as exc:
        raise CliError(str(exc)) from None
    scope = f"workflow {args.workflow}" if args.workflow else "every workflow"
    print(f"backtest of agg_runs_at_risk ({scope}; each cut-off sees only the events at or before it)")
    for s in scores:
        print(format_score(s))
    if args.json:
        Path(args.json).write_text(json.dumps([s.as_dict() for s in scores], indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def add_backtest_parser(sub) -> None:
    p = sub.add_parser(
        "backtest",
        help="replay past cut-offs: predict remaining time and SLO breaches of the runs then in flight, score "
        "them against what happened (MAE, precision, recall) beside the naive baseline",
    )
    p.add_argument("--cutoff", action="append", required=True, metavar="TIMESTAMP",
                   help="UTC cut-off, e.g. '2026-11-18 12:00:00'; repeat for several (pooled too)")
    p.add_argument("--workflow", help="score one workflow only")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.set_defaults(func=cmd_backtest)
