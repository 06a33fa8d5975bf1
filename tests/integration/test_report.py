"""The weekly executive report (`command-center report`, orchestration/lib/report) in a real headless
Chromium (Debian's /usr/bin/chromium through playwright; playwright downloads no browser):

- it renders: eleven panels, each chart an inline SVG of non-zero size; no console error; no request
  other than the file itself (every request is recorded, anything else is aborted); printed (PDF),
  every panel starts a page;
- every table cell equals the marts, queried here independently with the test's own SQL
  (``data-value`` is the mart's value; the text is its formatting);
- hostile workflow names and owners (HTML, script, SVG, ``$math$``) are shown as text, never markup;
- bad input fails clearly (a week that is not a Monday, a week after the data, no published marts);
- the Dagster asset writes the file and puts its path and a markdown preview in the metadata.

Reads the session's ``shared_warehouse`` (its published marts); never writes it.
"""
from __future__ import annotations

import math
import re
import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.report import build_report
from orchestration.lib.report.html import format_value
from orchestration.settings import published_path_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PANELS = ["improvement", "throughput", "cycle_time", "slo", "budget", "aging", "leaderboard", "cost", "drilldown",
          "stages", "completeness"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium missing: run `make system-deps`")


# ------------------------------------------------------------------------------------------------
# the browser
# ------------------------------------------------------------------------------------------------

TABLES_JS = """() => Array.from(document.querySelectorAll('table[data-table]')).map(t => ({
  key: t.dataset.table,
  rows: Array.from(t.querySelectorAll('tbody tr[data-row]')).map(tr => ({
    key: tr.dataset.row,
    cells: Object.fromEntries(Array.from(tr.querySelectorAll('td')).map(td => [td.dataset.col, [td.dataset.value, td.textContent]]))
  }))
}))"""

CHARTS_JS = """() => Array.from(document.querySelectorAll('section.panel')).map(s => {
  const svg = s.querySelector('figure svg');
  const box = svg ? svg.getBoundingClientRect() : null;
  return {panel: s.dataset.panel, width: box ? box.width : 0, height: box ? box.height : 0};
})"""


def open_in_chromium(path: Path, inspect):
    """Open ``path`` in a fresh headless Chromium; returns (inspect(page), requests, console errors)."""
    from playwright.sync_api import sync_playwright

    url = path.resolve().as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900}, service_workers="block",
        )
        try:
            context.on("request", lambda request: requests.append(request.url))
            context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
            page = context.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, wait_until="load")
            result = inspect(page)
        finally:
            context.close()
    return result, requests, errors, url


# ------------------------------------------------------------------------------------------------
# the report of the shared warehouse
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(shared_warehouse) -> Path:
    path = published_path_for(shared_warehouse.db)
    assert path.exists(), "the shared warehouse's build publishes its marts"
    return path


@pytest.fixture(scope="module")
def report_file(shared_warehouse, published, tmp_path_factory, cc_env) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    mp = pytest.MonkeyPatch()
    try:
        cc_env.apply(mp, out.parent, duckdb=shared_warehouse.db)
        assert main(["report", "--out", str(out)]) == 0
    finally:
        mp.undo()
    return out


@pytest.fixture(scope="module")
def page_content(report_file):
    def inspect(page):
        pdf = page.pdf(format="A4", landscape=True)  # the print stylesheet: one panel per page at least
        return {"tables": page.evaluate(TABLES_JS), "charts": page.evaluate(CHARTS_JS),
                "headlines": page.locator("#improvement ul.headlines li").all_inner_texts(),
                "title": page.title(), "pdf_pages": len(re.findall(rb"/Type\s*/Page[^s]", pdf))}
    return open_in_chromium(report_file, inspect)


def test_the_page_renders_offline(page_content, report_file):
    content, requests, errors, url = page_content
    assert requests == [url], "the report fetched something besides itself"
    assert errors == []
    assert [c["panel"] for c in content["charts"]] == PANELS
    flat = [c for c in content["charts"] if not (c["width"] > 100 and c["height"] > 20)]
    assert flat == [], "every panel has an inline SVG chart of non-zero size"
    assert content["title"].startswith("Automation command center - week of ")
    assert content["pdf_pages"] >= len(PANELS), "printed, each panel starts a page"
    # nothing in the file names an outside address (the SVG namespaces are names, never fetched;
    # url(#id) is a reference inside the page)
    html = report_file.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    for outside in ("http://", "https://", "<script", "@import", "<link", "<img", "src="):
        assert outside not in html, outside
    assert re.search(r"url\((?!#)", html) is None


def _week(published: Path) -> date:
    with duckdb.connect(str(published), read_only=True) as con:
        (as_of,) = con.execute("select as_of_ts from marts.dim_as_of").fetchone()
    return as_of.date() - timedelta(days=as_of.weekday() + 7)


def _expected(con, week: date) -> dict[str, dict[str, dict]]:
    """Each table's rows as the marts hold them: {table: {row key: {column: value}}}, by the test's own SQL."""
    weeks_from = week - timedelta(days=77)
    names = "left join marts.dim_workflows d on d.workflow_id = m.workflow_id"

    def rows(sql, params=(), key=lambda r: r["row_key"]):
        cur = con.execute(sql, list(params))
        cols = [c[0] for c in cur.description]
        out = {}
        for values in cur.fetchall():
            r = dict(zip(cols, values, strict=True))
            out[key(r)] = {k: v for k, v in r.items() if k != "row_key"}
        return out

    throughput: dict[str, dict] = {}
    for wf, name, week_start, runs in con.execute(
            f"select m.workflow_id, coalesce(d.workflow_name, m.workflow_id), m.week_start, m.runs_completed "
            f"from marts.agg_workflow_weekly_all_regions m {names} where m.week_start between ? and ?",
            [weeks_from, week]).fetchall():
        throughput.setdefault(wf, {"workflow": name})[f"w{week_start.isoformat()}"] = runs
    month = (week + timedelta(days=6)).replace(day=1)
    return {
        "throughput": throughput,
        "cycle_time": rows(f"""select m.workflow_id as row_key, coalesce(d.workflow_name, m.workflow_id) as workflow,
            m.runs_completed, m.cycle_time_p50_seconds, m.cycle_time_p90_seconds, d.cycle_time_slo_seconds,
            m.share_within_slo from marts.agg_workflow_weekly_all_regions m {names} where m.week_start = ?""", [week]),
        "slo": rows(f"""select m.workflow_id || '|' || m.sli as row_key, coalesce(d.workflow_name, m.workflow_id) as workflow,
            m.sli, m.objective_pct, m.attainment_pct, m.good_events, m.valid_events, m.error_budget_remaining_pct,
            m.is_breached from marts.fct_slo_weekly_snapshot m {names} where m.week_start = ?""", [week]),
        "budget": rows(f"""select m.workflow_id as row_key, coalesce(d.workflow_name, m.workflow_id) as workflow,
            m.runs_started, m.runs_with_exceptions, m.exception_rate_pct, m.budget_rate_pct, m.budget_consumed_pct,
            m.budget_spent_to_date_pct, m.projected_end_of_month_consumed_pct, m.budget_status, m.breach_action
            from marts.agg_exception_budget_monthly m {names} where m.month_start = ? and m.is_registered_workflow""",
                       [month]),
        "backlog": rows("""select cast(backlog_rank as varchar) as row_key, backlog_rank, routed_owner, severity_label,
            age_bucket, open_exceptions, untouched_exceptions, oldest_exception_id, oldest_age_seconds
            from marts.agg_exception_backlog"""),
        "oldest_exceptions": rows("""select exception_id as row_key, exception_id, workflow_id, exception_class,
            routed_owner, severity, raised_at, age_seconds, first_touch_breached from marts.fct_exceptions
            where is_open order by age_seconds desc, exception_id limit 10"""),
        "leaderboard": rows("""select owner as row_key, leaderboard_rank, owner, owner_team, workflows_owned,
            runs_completed_last_4_weeks, share_within_slo_last_4_weeks, slo_breaches_last_4_weeks, open_exceptions,
            p90_time_to_first_touch_seconds, exception_budget_status from marts.agg_owner_leaderboard"""),
        "cost": rows("""select owner_team || '|' || region as row_key, owner_team, region, completed_runs, compute_cost,
            labor_hours, labor_cost, total_cost, cost_per_completed_run from marts.agg_cost_to_serve_weekly
            where grain = 'owner_team_region' and week_start = ?""", [week]),
        "drilldown": rows(f"""select m.workflow_id || '|' || m.exception_class || '|' || m.routed_owner as row_key,
            coalesce(d.workflow_name, m.workflow_id) as workflow, m.exception_class, m.routed_owner,
            m.exceptions_raised, m.exceptions_acknowledged, m.exceptions_resolved, m.time_to_first_touch_p90_seconds,
            m.time_to_resolution_p90_seconds, m.first_touch_breaches, m.resolution_breaches
            from marts.agg_exception_aging_weekly m {names} where m.week_start = ? and m.exceptions_raised > 0""",
                          [week]),
        "stages": rows(f"""select m.workflow_id || '|' || m.stage as row_key, coalesce(d.workflow_name, m.workflow_id)
            as workflow, m.stage, m.stage_runs, m.stage_runs_failed, m.failure_rate, m.stage_runs_2_attempts,
            m.stage_runs_3_attempts, m.stage_runs_4plus_attempts, m.timeout_rate, m.stage_duration_p90_seconds
            from marts.agg_stage_weekly m {names} where m.week_start = ? and m.stage_runs > 0
            order by m.failure_rate desc, m.stage_runs desc, m.workflow_id, m.stage limit 15""", [week]),
        "completeness": rows("""select workflow_id || '|' || strftime(day, '%Y-%m-%d') as row_key, workflow_id, day,
            events, runs_started, runs_ended, runs_with_complete_lifecycle, share_complete, checks_failed,
            failed_checks from marts.agg_log_completeness_daily where day between ? and ?""",
                             [week, week + timedelta(days=6)]),
        "improvement": rows(f"""select m.workflow_id || '|' || m.metric as row_key,
            coalesce(d.workflow_name, m.workflow_id) as workflow, m.metric, m.unit, m.baseline_week_from,
            m.baseline_week_to, m.recent_week_from, m.recent_week_to, m.baseline_value, m.recent_value, m.change_pct,
            m.comparison_status from marts.agg_improvement_vs_baseline m {names}"""),
    }


def _same(page_value: str, mart_value) -> bool:
    if mart_value is None:
        return page_value == ""
    if isinstance(mart_value, bool):
        return page_value == ("true" if mart_value else "false")
    if isinstance(mart_value, int):
        return int(page_value) == mart_value
    if isinstance(mart_value, float):
        return math.isclose(float(page_value), mart_value, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(mart_value, datetime):
        return page_value == mart_value.isoformat(sep=" ")
    if isinstance(mart_value, date):
        return page_value == mart_value.isoformat()
    return page_value == str(mart_value)


def test_every_table_cell_equals_the_marts(page_content, published):
    content, _, _, _ = page_content
    page = {t["key"]: {r["key"]: r["cells"] for r in t["rows"]} for t in content["tables"]}
    with duckdb.connect(str(published), read_only=True) as con:
        expected = _expected(con, _week(published))
    assert set(page) == set(expected)
    compared = 0
    for table, rows in expected.items():
        assert set(page[table]) == set(rows), f"{table}: rows differ"
        for key, cells in rows.items():
            for col, value in cells.items():
                page_value, _text = page[table][key][col]
                assert _same(page_value, value), f"{table} row {key} column {col}: page {page_value!r} != mart {value!r}"
                compared += 1
    assert compared > 500
    # the shared warehouse has data for every table in its latest full week (not only empty notes)
    assert [t for t, rows in page.items() if not rows] == []
    # the text is the value formatted: spot checks of the formats
    some = next(iter(page["cycle_time"].values()))
    assert some["cycle_time_p90_seconds"][1] == format_value("hours", float(some["cycle_time_p90_seconds"][0]))
    assert some["share_within_slo"][1].endswith("%")


def test_one_plain_language_line_per_workflow(page_content, published):
    content, _, _, _ = page_content
    with duckdb.connect(str(published), read_only=True) as con:
        workflows = con.execute(
            "select workflow_name, min(comparison_status) from marts.agg_improvement_vs_baseline "
            "group by workflow_name order by workflow_name").fetchall()
    lines = content["headlines"]
    assert [line.split(":", 1)[0] for line in lines] == [name for name, _ in workflows]
    # three weeks of data: no workflow has six full weeks of baseline yet, and the line says so
    assert {status for _, status in workflows} == {"baseline_not_ended"}
    assert all("not enough history yet" in line for line in lines)


# ------------------------------------------------------------------------------------------------
# hostile strings
# ------------------------------------------------------------------------------------------------

HOSTILE_NAME = '<script>window.__pwned = 1</script><b onmouseover="x()">Invoice</b> & "posting" $\\alpha$'
HOSTILE_OWNER = '"><img src=x onerror="window.__pwned=2"><svg onload="window.__pwned=3">@evil.com'


def test_hostile_names_and_owners_are_text_not_markup(published, tmp_path):
    copy = tmp_path / "hostile_copy.duckdb"
    shutil.copy(published, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute("update marts.dim_workflows set workflow_name = ?", [HOSTILE_NAME])
        for table, column in (("agg_exception_backlog", "routed_owner"), ("fct_exceptions", "routed_owner"),
                              ("agg_owner_leaderboard", "owner"), ("agg_exception_aging_weekly", "routed_owner")):
            con.execute(f"update marts.{table} set {column} = ?", [HOSTILE_OWNER])
        report = build_report(con)
    out = tmp_path / "hostile.html"
    out.write_text(report.html)

    def inspect(page):
        return page.evaluate("""() => ({
            pwned: window.__pwned === undefined ? null : window.__pwned,
            elements: document.querySelectorAll('script, img, iframe, b, td svg, li svg').length,
            charts: document.querySelectorAll('main figure > svg').length,
            handlers: Array.from(document.querySelectorAll('*')).filter(e =>
                Array.from(e.attributes).some(a => a.name.startsWith('on'))).length,
            text: document.body.innerText,
            svgText: Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join('\\n'),
        })""")

    result, requests, errors, url = open_in_chromium(out, inspect)
    assert result["pwned"] is None
    assert result["elements"] == 0 and result["handlers"] == 0 and result["charts"] == len(PANELS)
    assert HOSTILE_NAME in result["text"] and HOSTILE_OWNER in result["text"]
    assert "<script>window.__pwned" in result["svgText"]  # chart labels carry the name as text
    assert requests == [url] and errors == []


# ------------------------------------------------------------------------------------------------
# bad input, and the Dagster asset
# ------------------------------------------------------------------------------------------------


def test_bad_weeks_and_missing_marts_fail_clearly(shared_warehouse, tmp_path, monkeypatch, cc_env, capsys):
    cc_env.apply(monkeypatch, tmp_path, duckdb=shared_warehouse.db)
    out = tmp_path / "r.html"
    assert main(["report", "--week", "2026-11-10", "--out", str(out)]) == 1
    assert "is a Tuesday; give the Monday that starts the ISO week (2026-11-09)" in capsys.readouterr().err
    assert main(["report", "--week", "2027-01-04", "--out", str(out)]) == 1
    assert "is after the data" in capsys.readouterr().err
    assert main(["report", "--week", "last-week", "--out", str(out)]) == 1
    assert "is not a date" in capsys.readouterr().err
    assert not out.exists()
    cc_env.apply(monkeypatch, tmp_path, duckdb=tmp_path / "empty" / "command_center.duckdb")
    assert main(["report", "--out", str(out)]) == 1
    assert "no published marts yet" in capsys.readouterr().err
    assert not out.exists()


def test_dagster_asset_writes_the_report_with_path_and_preview(shared_warehouse, tmp_path, monkeypatch):
    from orchestration.defs.report import REPORTS_DIR_ENV, build_weekly_report_asset
    from orchestration.defs.resources import WarehouseResource

    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "reports"))
    asset = build_weekly_report_asset([dg.AssetKey(["marts", "fct_slo_weekly_snapshot"])])
    result = dg.materialize([asset], partition_key="2026-11-09",
                            resources={"warehouse": WarehouseResource(duckdb_path=str(shared_warehouse.db))})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    path = Path(metadata["path"].value)
    assert path == tmp_path / "reports" / "command_center_report_2026-11-09.html" and path.exists()
    assert metadata["week_start"].value == "2026-11-09"
    preview = metadata["preview"].value
    assert preview.startswith("**Command-center report, ISO week of 2026-11-09**") and str(path) in preview
    assert "not enough history yet" in preview
    assert 'data-panel="completeness"' in path.read_text()
