"""XES event logs in (issue 12, part 1): hand-written XES files through the one landing path.

Each file is small and written here, with the answer worked out by hand: field mapping, typed
attributes, trace attributes, equal timestamps (file order breaks the tie), mixed UTC offsets,
lifecycle start/complete, quarantine with reason codes, conservation, exactly once, refusals with
line and column (malformed XML, a billion-laughs DTD, an external entity), gzip, the CLI and the
landing-folder convention; and a generated log read by pm4py has the counts that landed.
"""
from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.lib.landing import LandingError, land_file
from orchestration.lib.warehouse import connect

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WORKFLOW = "fulfillment_v2"  # registered; its first region (us-east-1) fills the region
SALT = "test-salt"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849.2016" xmlns="http://www.xes-standard.org/">
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="event"><date key="time:timestamp" value="1970-01-01T00:00:00Z"/></global>
  <classifier name="Activity" keys="concept:name lifecycle:transition"/>
  <string key="concept:name" value="a log-level attribute, ignored"/>
"""


def ev(name: str | None, ts: str | None, *, resource: str | None = None, lifecycle: str | None = None,
       extra: str = "") -> str:
    parts = []
    if name is not None:
        parts.append(f'<string key="concept:name" value="{name}"/>')
    if ts is not None:
        parts.append(f'<date key="time:timestamp" value="{ts}"/>')
    if resource is not None:
        parts.append(f'<string key="org:resource" value="{resource}"/>')
    if lifecycle is not None:
        parts.append(f'<string key="lifecycle:transition" value="{lifecycle}"/>')
    return "<event>" + "".join(parts) + extra + "</event>\n"


TYPED = (
    '<string key="note" value="hello"/><int key="items" value="3"/><float key="weight" value="2.5"/>'
    '<boolean key="gift" value="true"/><date key="promised" value="2026-11-21T00:00:00+01:00"/>'
    '<id key="uuid" value="6f1c"/>'
    '<list key="tags"><values><string key="t" value="red"/><int key="t" value="7"/></values></list>'
    '<container key="address"><string key="city" value="Rotterdam"/><int key="zip" value="3011"/></container>'
    '<string key="unit" value="kg"><string key="meta_note" value="measured"/></string>'
)

# Row numbers are the events' positions in the file (1-based, events outside a trace included).
GOOD_LOG = HEADER + (
    '<trace><string key="concept:name" value="c1"/><string key="channel" value="web"/>'
    '<int key="priority" value="2"/>\n'
    + ev("A", "2026-11-19T10:00:00Z", resource="ann", lifecycle="complete", extra=TYPED)          # 1
    + ev("B", "2026-11-19T12:00:00+02:00", resource="bob", lifecycle="start")                       # 2: = row 1's instant
    + ev("B", "2026-11-19T06:30:00-05:00", resource="bob", lifecycle="complete")                    # 3: 11:30Z
    + ev("C", None, resource="ann")                                                                  # 4: no timestamp
    + ev("D", "19/11/2026 10:00")                                                                    # 5: unparseable
    + '<date key="closed_at" value="2026-11-19T12:00:00Z"/>'  # a trace attribute after its events
    + "</trace>\n"
    + '<trace><string key="channel" value="phone"/>\n'  # a trace without concept:name
    + ev("A", "2026-11-19T09:00:00Z")                                                                # 6: no case id
    + "</trace>\n"
    + '<trace><string key="concept:name" value="c3"/>\n'
    + ev("A", "2026-11-19T09:00:00Z", extra='<int key="items" value="three"/>')                      # 7: bad int
    + ev(None, "2026-11-19T09:05:00Z")                                                               # 8: no name
    + ev("A", "2026-11-19T09:10:00Z", extra='<string key="trace" value="x"/><string key="event_id" value="E9"/>'
         '<string key="region" value="eu-west-1"/>')                                                   # 9: reserved keys
    + "</trace>\n"
    + ev("Z", "2026-11-19T09:00:00Z")                                                                # 10: outside a trace
    + "</log>\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def land(con, register, path: Path, **kwargs):
    return land_file(con, path, register=register, salt=SALT, now=NOW, log_format="xes", workflow=WORKFLOW, **kwargs)


def test_fields_attributes_order_and_quarantine(tmp_path, con, register):
    result = land(con, register, write(tmp_path / "good.xes", GOOD_LOG))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (10, 4, 6)
    assert result.quarantine_reasons == {"malformed_record": 1, "missing_required_field": 4, "unparseable_timestamp": 1}

    rows = con.execute(
        """select source_row_number, run_id, stage, source_event_name, event_type, event_ts, actor, region,
                  log_format, attributes from raw.workflow_events order by source_row_number"""
    ).fetchall()
    assert [r[:9] for r in rows] == [
        (1, "c1", "A", "A", "stage_completed", datetime(2026, 11, 19, 10), "ann", "us-east-1", "xes"),
        (2, "c1", "B", "B", "stage_completed", datetime(2026, 11, 19, 10), "bob", "us-east-1", "xes"),
        (3, "c1", "B", "B", "stage_completed", datetime(2026, 11, 19, 11, 30), "bob", "us-east-1", "xes"),
        (9, "c3", "A", "A", "stage_completed", datetime(2026, 11, 19, 9, 10), None, "us-east-1", "xes"),
    ]
    attrs = {r[0]: json.loads(r[9]) for r in rows}
    trace_c1 = {"channel": "web", "priority": 2, "closed_at": "2026-11-19T12:00:00Z"}
    assert attrs[1] == {
        "lifecycle:transition": "complete", "trace": trace_c1,
        "note": "hello", "items": 3, "weight": 2.5, "gift": True, "promised": "2026-11-21T00:00:00+01:00",
        "uuid": "6f1c", "tags": ["red", 7], "address": {"city": "Rotterdam", "zip": 3011},
        "unit": "kg", "unit@meta": {"meta_note": "measured"},
    }
    assert attrs[2] == {"lifecycle:transition": "start", "trace": trace_c1}
    # reserved keys of event attributes: the event_id is derived and the region the workflow's
    assert attrs[9] == {"event:trace": "x", "event:event_id": "E9", "event:region": "eu-west-1"}

    quarantined = con.execute(
        "select source_row_number, reason_code, reason_detail from raw.quarantine order by source_row_number"
    ).fetchall()
    assert [(n, code) for n, code, _ in quarantined] == [
        (4, "missing_required_field"), (5, "unparseable_timestamp"), (6, "missing_required_field"),
        (7, "malformed_record"), (8, "missing_required_field"), (10, "missing_required_field"),
    ]
    details = {n: d for n, _, d in quarantined}
    assert details[4] == "timestamp" and details[6] == "case_id" and details[8] == "event_name"
    assert details[5] == "event_ts '19/11/2026 10:00' is not ISO 8601"
    assert details[7].startswith("int attribute 'items' has value 'three', not an integer (line ")

    ledger = con.execute(
        "select file_format, log_format, rows_read, rows_loaded, rows_quarantined from raw.load_ledger"
    ).fetchall()
    assert ledger == [("xes", "xes", 10, 4, 6)]


def test_exactly_once_and_gzip(tmp_path, con, register):
    first = land(con, register, write(tmp_path / "good.xes", GOOD_LOG))
    again = land(con, register, write(tmp_path / "renamed.xes", GOOD_LOG))
    assert again.status == "already_loaded" and again.load_id == first.load_id
    # the same log gzipped: new bytes, the same events (same derived ids), so nothing loads twice
    gz = land(con, register, write(tmp_path / "good.xes.gz", GOOD_LOG))
    assert (gz.status, gz.rows_read, gz.rows_loaded) == ("loaded", 10, 0)
    assert gz.quarantine_reasons["duplicate_event_id"] == 4
    assert con.execute("select count(*) from raw.workflow_events").fetchone() == (4,)


def test_identical_events_in_one_trace_are_distinct(tmp_path, con, register):
    same = ev("A", "2026-11-19T10:00:00Z", resource="ann")
    log = HEADER + '<trace><string key="concept:name" value="c1"/>' + same + same + "</trace></log>"
    result = land(con, register, write(tmp_path / "twice.xes", log))
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("broken.xes", HEADER + '<trace><string key="concept:name" value="c1"/>\n<event></trace></log>\n',
         "is not well-formed XML at line 8, column "),
        ("broken.xes.gz", HEADER + "<trace>\n<event>\n", "is not well-formed XML at line "),
        ("notgzip.xes.gz", None, "cannot be read as gzip"),
        ("root.xes", '<?xml version="1.0"?><events><event/></events>', "is not an XES log: its root element is <events>"),
        ("empty_root.xes", '<?xml version="1.0"?><foo/>', "is not an XES log: its root element is <foo>"),
        ("trace_in_trace.xes", HEADER + "<trace>\n<trace/></trace></log>", "has a <trace> at line 8 inside <trace>"),
        ("nested.xes", HEADER + '<trace><container key="c"><event/></container></trace></log>',
         "has an <event> at line 7 inside <container>"),
    ],
)
def test_unreadable_files_are_refused_whole(tmp_path, con, register, name, content, problem):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"plain text, not gzip")
    else:
        write(path, content)
    with pytest.raises(LandingError) as info:
        land(con, register, path)
    assert problem in info.value.problem
    assert con.execute("select count(*) from raw.load_ledger").fetchone() == (0,)
    assert con.execute("select count(*) from raw.workflow_events").fetchone() == (0,)
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (0,)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE log [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
""" + "".join(
    f' <!ENTITY {chr(ord("a") + i + 1)} "{("&" + chr(ord("a") + i) + ";") * 10}">\n' for i in range(9)
) + """]>
<log><trace><string key="concept:name" value="&j;"/>
<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2026-11-19T10:00:00Z"/></event>
</trace></log>
"""


def test_entities_never_expand(tmp_path, con, register):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (
        f'<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY s SYSTEM "file://{secret}">]>\n'
        '<log><trace><string key="concept:name" value="&s;"/><event><string key="concept:name" value="&s;"/>'
        '<date key="time:timestamp" value="2026-11-19T10:00:00Z"/></event></trace></log>'
    )
    for name, text in (("laughs.xes", BILLION_LAUGHS), ("xxe.xes", xxe)):
        with pytest.raises(LandingError) as info:
            land(con, register, write(tmp_path / name, text))
        assert "declares a DTD" in info.value.problem
        assert "TOP-SECRET" not in str(info.value) and "aaaa" not in str(info.value)
    assert con.execute("select count(*) from raw.load_ledger").fetchone() == (0,)


def test_log_format_and_extension_must_agree(tmp_path, con, register):
    path = write(tmp_path / "good.xes", GOOD_LOG)
    with pytest.raises(LandingError, match="an XES file lands with --log-format xes --workflow NAME"):
        land_file(con, path, register=register, salt=SALT, now=NOW)
    with pytest.raises(LandingError, match="needs --workflow NAME"):
        land_file(con, path, register=register, salt=SALT, now=NOW, log_format="xes")
    csv = tmp_path / "cases.csv"
    csv.write_text("case_id,event_name,timestamp\n")
    with pytest.raises(LandingError, match=r"--log-format xes reads \.xes or \.xes\.gz files"):
        land(con, register, csv)


def test_empty_files_land_with_no_rows(tmp_path, con, register):
    assert land(con, register, write(tmp_path / "zero.xes", "")).rows_read == 0
    assert land(con, register, write(tmp_path / "nologs.xes", HEADER + "</log>")).rows_read == 0


def test_cli_end_to_end_and_folder_convention(tmp_path, cc_env, monkeypatch, capsys):
    cc_env.apply(monkeypatch, tmp_path, duckdb=tmp_path / "cli.duckdb")
    good = write(tmp_path / "in" / "good.xes.gz", GOOD_LOG)
    base = ["ingest", "--log-format", "xes", "--workflow", WORKFLOW]
    # events of 2026-11-19 are well inside the retention of any landing day near NOW; rows land
    assert main([*base, str(good)]) == 0
    out = capsys.readouterr().out
    assert "read 10, loaded" in out and "1 file(s) landed, 0 already loaded, 0 refused" in out

    bad = write(tmp_path / "in" / "broken.xes", HEADER + "<trace>\n</log>\n")
    assert main([*base, str(bad)]) == 1
    captured = capsys.readouterr()
    errors = [line for line in (captured.out + captured.err).splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "is not well-formed XML at line 8, column" in errors[0]

    # the landing folder: .../minimal/<workflow_id>/<file>.xes[.gz] is an XES log of that workflow
    drop = tmp_path / "drop"
    one_event = HEADER + '<trace><string key="concept:name" value="F1"/>' + ev("A", "2026-11-19T08:00:00Z") + "</trace></log>"
    write(drop / "minimal" / "returns_processing_v1" / "log.XES.gz", one_event)
    assert main(["ingest", str(drop)]) == 0
    con = connect(os.environ["COMMAND_CENTER_DUCKDB"], read_only=True)
    try:
        rows = con.execute(
            "select workflow_id, run_id, log_format from raw.workflow_events where run_id = 'F1'"
        ).fetchall()
        formats = con.execute("select file_format, log_format from raw.load_ledger order by loaded_at").fetchall()
    finally:
        con.close()
    assert rows == [("returns_processing_v1", "F1", "xes")]
    assert formats == [("xes", "xes")] * 2


def test_a_generated_log_reads_the_same_in_pm4py(tmp_path, con, register):
    pm4py = pytest.importorskip("pm4py")
    from orchestration.lib.generator.xes import write_xes_log

    path = tmp_path / "generated.xes.gz"
    traces, events = write_xes_log(path, days=2, cases_per_day=15, seed=3, end_date=date(2026, 11, 20))
    result = land_file(con, path, register=register, salt=SALT, now=NOW, log_format="xes",
                       workflow=WORKFLOW)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (events, events, 0)
    log = pm4py.read_xes(str(path), variant="iterparse")
    landed_cases, lifecycles, equal_ts = con.execute(
        """select count(distinct run_id), count(distinct attributes->>'$."lifecycle:transition"'),
                  count(*) filter (where event_ts = lag_ts) from (
            select *, lag(event_ts) over (partition by run_id order by source_row_number) as lag_ts
            from raw.workflow_events)"""
    ).fetchone()
    assert len(log) == events and log["case:concept:name"].nunique() == landed_cases
    assert lifecycles == 2 and equal_ts > 0  # start/complete, and equal timestamps within a case
    # per case, the activity sequence in file order equals pm4py's
    ours = dict(con.execute(
        "select run_id, string_agg(stage, '>' order by source_row_number) from raw.workflow_events group by 1"
    ).fetchall())
    theirs = log.groupby("case:concept:name", sort=False)["concept:name"].agg(">".join).to_dict()
    assert ours == theirs


def test_dagster_landing_asset_follows_the_folder_convention(command_center_env):
    import dagster as dg

    from orchestration.defs.landing import raw_workflow_events
    from orchestration.defs.register import governance_register
    from orchestration.defs.resources import LandingResource, WarehouseResource

    settings = command_center_env
    log = HEADER + '<trace><string key="concept:name" value="D1"/>' + ev("A", "2026-11-19T08:00:00Z") + (
        ev("B", "2026-11-19T08:00:00Z", lifecycle="start") + "</trace></log>"
    )
    write(settings.landing_dir / "minimal" / "returns_processing_v1" / "export.xes.gz", log)
    result = dg.materialize(
        [governance_register, raw_workflow_events],
        resources={
            "warehouse": WarehouseResource(duckdb_path=str(settings.duckdb_path)),
            "landing": LandingResource(landing_dir=str(settings.landing_dir), register_path=str(settings.register_path)),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    con = connect(settings.duckdb_path, read_only=True)
    try:
        rows = con.execute(
            "select workflow_id, run_id, stage, log_format, source_row_number from raw.workflow_events "
            "order by source_row_number"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("returns_processing_v1", "D1", "A", "xes", 1), ("returns_processing_v1", "D1", "B", "xes", 2)]


def test_xes_cases_feed_the_run_and_process_mining_models(shared_warehouse_copy):
    """Landed XES events need nothing of their own downstream: the runs and process-mining models
    read them like minimal-log events (one dbt run of the four models that read the events)."""
    from orchestration.lib.dbt import run_dbt

    settings = shared_warehouse_copy
    log = HEADER + '<trace><string key="concept:name" value="X1"/>' + (
        ev("A", "2026-11-20T10:00:00Z", lifecycle="complete")
        + ev("B", "2026-11-20T12:00:00+02:00", lifecycle="start")      # 10:00Z: ties with A, after it in the file
        + ev("B", "2026-11-20T06:30:00-05:00", lifecycle="complete")   # 11:30Z
        + ev("C", "2026-11-20T11:30:00Z", lifecycle="complete")        # ties with B complete
    ) + "</trace></log>"
    path = write(settings.landing_dir.parent / "x.xes", log)
    assert main(["ingest", "--log-format", "xes", "--workflow", "xes_wf", "--region", "us-east-1", str(path)]) == 0
    run_dbt(settings, ["run", "--select",
                       "int_runs_summarized int_case_events_sequenced fct_case_variants fct_activity_durations"])
    con = connect(settings.duckdb_path, read_only=True)
    try:
        run = con.execute(
            "select log_format, final_status, started_at, ended_at from intermediate.int_runs_summarized "
            "where workflow_id = 'xes_wf'"
        ).fetchall()
        case = con.execute(
            "select variant, start_activity, end_activity, case_duration_seconds from marts.fct_case_variants "
            "where workflow_id = 'xes_wf'"
        ).fetchall()
        durations = con.execute(
            "select activity, duration_seconds from marts.fct_activity_durations "
            "where workflow_id = 'xes_wf' and pairing is not null and started_at < completed_at"
        ).fetchall()
    finally:
        con.close()
    assert run == [("minimal", "completed", datetime(2026, 11, 20, 10), datetime(2026, 11, 20, 11, 30))]
    assert case == [("A > B > C", "A", "C", 5400)]
    assert ("B", 5400) in durations


def test_an_unreadable_trace_attribute_quarantines_its_events(tmp_path, con, register):
    log = HEADER + (
        '<trace><string key="concept:name" value="t1"/><boolean key="vip" value="maybe"/>'
        + ev("A", "2026-11-19T10:00:00Z") + ev("B", "2026-11-19T11:00:00Z") + "</trace>\n"
        + '<trace><string key="concept:name" value="t2"/>'
        + ev("A", "2026-11-19T10:00:00Z", extra='<string value="no key"/>') + ev("B", "2026-11-19T11:00:00Z")
        + "</trace></log>"
    )
    result = land(con, register, write(tmp_path / "bad_attrs.xes", log))
    assert (result.rows_read, result.rows_loaded, result.quarantine_reasons) == (4, 1, {"malformed_record": 3})
    details = con.execute("select source_row_number, reason_detail from raw.quarantine order by 1").fetchall()
    assert [n for n, _ in details] == [1, 2, 3]
    assert details[0][1].startswith("trace attribute: boolean attribute 'vip' has value 'maybe', not true/false")
    assert details[2][1].startswith("a <string> attribute without a key (line 10)")
    assert con.execute("select run_id, stage from raw.workflow_events").fetchall() == [("t2", "B")]


def test_hints_and_generator_bytes(tmp_path):
    from orchestration.lib.generator.xes import write_xes_log
    from orchestration.lib.landing.hints import landing_hints

    detail = "int attribute 'items' has value 'three', not an integer (line 18)"
    [hint] = landing_hints(10, {"malformed_record": 1}, {"malformed_record": detail}, threshold=0.05)
    assert hint.startswith("10% of XES events have an attribute that cannot be read (e.g. int attribute 'items'")
    # same arguments, same bytes (gzip with mtime 0)
    one, two = tmp_path / "one.xes.gz", tmp_path / "two.xes.gz"
    for path in (one, two):
        write_xes_log(path, days=1, cases_per_day=5, seed=4, end_date=date(2026, 11, 20))
    assert one.read_bytes() == two.read_bytes()


def test_redacted_fields_in_trace_and_event_attributes_are_hashed(tmp_path, con, register):
    assert "customer_email" in register.data_controls.redaction.fields
    log = HEADER + (
        '<trace><string key="concept:name" value="c1"/><string key="customer_email" value="ann@example.com"/>'
        + ev("A", "2026-11-19T10:00:00Z", extra='<container key="contact"><string key="Customer_Email" '
             'value="bob@example.com"/></container>')
        + "</trace></log>"
    )
    assert land(con, register, write(tmp_path / "pii.xes", log)).rows_loaded == 1
    [(attributes,)] = con.execute("select attributes from raw.workflow_events").fetchall()
    assert "@example.com" not in attributes
    parsed = json.loads(attributes)
    assert parsed["trace"]["customer_email"].startswith("sha256:")
    assert parsed["contact"]["Customer_Email"].startswith("sha256:")


def test_a_truncated_gzip_is_refused_whole(tmp_path, con, register):
    path = tmp_path / "cut.xes.gz"
    traces = "".join(f'<trace><string key="concept:name" value="c{i}"/>' + ev("A", "2026-11-19T10:00:00Z") + "</trace>"
                     for i in range(2000))
    path.write_bytes(gzip.compress((HEADER + traces + "</log>").encode(), mtime=0)[:-40])
    with pytest.raises(LandingError) as info:
        land(con, register, path)
    assert "cannot be read as gzip" in info.value.problem
    assert con.execute("select count(*) from raw.load_ledger").fetchone() == (0,)
