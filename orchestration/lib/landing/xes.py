"""Step 1 of landing for XES event logs (IEEE 1849): stream the XML into the records minimal logs use.

An XES file (``.xes``, or ``.xes.gz`` read through gzip without unpacking to disk) is parsed with
``lxml.etree.iterparse`` in constant memory: each ``<event>`` becomes one record as soon as its end
tag is read, and every element already handled is cleared and removed from the tree. Records go to
DuckDB in Arrow batches of ``CHUNK_EVENTS`` (temp tables ``_cc_xes_events`` / ``_cc_xes_traces``),
and DuckDB joins each event to its trace and writes ``_cc_records`` / ``_cc_json`` exactly as the
JSON Lines reader does. From there the file goes through the one minimal-log projection,
validation, quarantine and ledger path (``load.land_file``): XES has no checks of its own.

A record is a JSON object (docs/event-contract.md, "XES event logs", says the same in prose):

* the event's attributes under their XES keys (``concept:name``, ``time:timestamp``,
  ``org:resource``, ``lifecycle:transition``, ...); ``XES_COLUMN_MAP`` tells the projection which
  are the minimal log's case_id / event_name / timestamp / actor, the rest become ``attributes``;
* the trace's ``concept:name`` under ``trace:concept:name`` (the case id), and the trace's other
  attributes as an object under ``trace``; an event attribute whose key is one of these, or
  ``event_id`` or ``region``, is kept as ``event:<key>`` (event ids are derived, the region comes
  from --region or the register, as for a minimal log without those columns);
* typed values as JSON: string, id and date as strings (a date as written; ``time:timestamp`` is
  parsed by landing/timestamps.py like every event time), int as a number (as a string beyond
  64 bits), float as a number (NaN and infinities as strings), boolean as true/false, list as an
  array of its values in order, container as an object; the attributes nested in any other
  attribute (XES meta-attributes) as an object under ``<key>@meta``; a repeated key: the last wins.

``source_row_number`` is the event's position in the file (1-based, in document order, events outside
a trace included): the tie-breaker for events with equal timestamps. An event that cannot be read
(an attribute without a key or value, an int/float/boolean whose value is not one, a trace attribute
of its trace likewise) is quarantined as ``malformed_record`` with the reason and line. A file that is
not well-formed XML, whose root is not ``<log>``, that declares a DTD (entity expansion, external
entities), or a ``.gz`` that is not gzip, is refused whole with the line and column.

Log-level attributes, ``<extension>``, ``<global>`` and ``<classifier>`` declarations are read and
ignored: the event name is always ``concept:name``, and global default values are not applied
(ProM writes defaults such as ``time:timestamp`` 1970-01-01 that would hide a missing value).
"""
from __future__ import annotations

import gzip
import json
import math
import zlib
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from lxml import etree

from orchestration.lib.landing.common import LandingError
from orchestration.lib.landing.readers import MAX_LINE_BYTES, _create_empty_records

#: File name endings read as XES (case-insensitive).
XES_SUFFIXES = (".xes", ".xes.gz")

#: The minimal log's contract fields in an XES record (land_file's column_map for log_format 'xes').
XES_COLUMN_MAP = {
    "case_id": "trace:concept:name",
    "event_name": "concept:name",
    "timestamp": "time:timestamp",
    "actor": "org:resource",
}
#: The key of the trace's other attributes in each event's record (and so in ``attributes``).
TRACE_KEY = "trace"
#: Keys an event attribute cannot have in the record (kept as ``event:<key>``): the trace's, and the
#: minimal log's optional event_id and region columns (an attribute on some events only would
#: otherwise become the event_id of those and leave the others without one).
_RESERVED = (TRACE_KEY, XES_COLUMN_MAP["case_id"], "event_id", "region")

#: Events per Arrow batch handed to DuckDB.
CHUNK_EVENTS = 50_000
#: How much of an unreadable event's XML the quarantine keeps (before the redaction policy).
_RAW_XML_CHARS = 4096

_SCALARS = frozenset({"string", "date", "int", "float", "boolean", "id"})
_TEXT_KINDS = frozenset({"string", "date", "id"})
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ATTRIBUTES = _SCALARS | {"list", "container"}
_INT64 = 2**63

_EVENTS_SCHEMA = pa.schema(
    [("_row", pa.int64()), ("_trace", pa.int64()), ("_problem", pa.string()), ("_text", pa.string())]
)
_TRACES_SCHEMA = pa.schema([("_trace", pa.int64()), ("_problem", pa.string()), ("_attrs", pa.string())])


def is_xes_name(path: Path | str) -> bool:
    """Whether a file name ends in .xes or .xes.gz (any case)."""
    return Path(path).name.lower().endswith(XES_SUFFIXES)


class _BadValue(ValueError):
    """An attribute that cannot be read; the message is the quarantine detail."""


#: Local names of the tags seen (``{http://www.xes-standard.org/}event`` -> ``event``), up to a bound.
_LOCAL_NAMES: dict[object, str] = {}


def _local(tag: object) -> str:
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        if len(_LOCAL_NAMES) < 1024:  # a hostile file's many distinct names must not grow it
            _LOCAL_NAMES[tag] = name
    return name


def _scalar(kind: str, key: str, raw: str | None, line: int | None):
    if raw is None:
        raise _BadValue(f"<{kind} key={key!r}> has no value attribute (line {line})")
    if kind == "int":
        try:
            number = int(raw.strip())
        except ValueError:
            raise _BadValue(f"int attribute {key!r} has value {raw[:64]!r}, not an integer (line {line})") from None
        return number if -_INT64 <= number < _INT64 else raw.strip()
    if kind == "float":
        try:
            number = float(raw.strip())
        except ValueError:
            raise _BadValue(f"float attribute {key!r} has value {raw[:64]!r}, not a number (line {line})") from None
        return number if math.isfinite(number) else raw.strip()
    if kind == "boolean":
        flag = raw.strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise _BadValue(f"boolean attribute {key!r} has value {raw[:64]!r}, not true/false (line {line})")
        return flag in ("true", "1")
    return raw  # string, id, date: as written


def _attribute(child: etree._Element) -> tuple[str, object, dict]:
    """(key, JSON value, meta-attributes) of one XES attribute element."""
    kind = _local(child.tag)
    key = child.get("key")
    if key is None:
        raise _BadValue(f"a <{kind}> attribute without a key (line {child.sourceline})")
    if kind == "list":
        values = next((c for c in child if _local(c.tag) == "values"), None)
        items = [_attribute(c)[1] for c in (child if values is None else values) if _local(c.tag) in _ATTRIBUTES]
        return key, items, (_attributes(child) if values is not None else {})
    if kind == "container":
        return key, _attributes(child), {}
    return key, _scalar(kind, key, child.get("value"), child.sourceline), (_attributes(child) if len(child) else {})


def _attributes(parent: etree._Element) -> dict:
    """The XES attributes among ``parent``'s children, as a dict of JSON values (unknown elements
    are ignored; a repeated key: the last wins; meta-attributes under ``<key>@meta``)."""
    out: dict = {}
    for child in parent:
        kind = _local(child.tag)
        if kind in _TEXT_KINDS and not len(child):  # the common case, inline: a plain text attribute
            key, value = child.get("key"), child.get("value")
            if key is not None and value is not None:
                out[key] = value
                continue
        if kind in _ATTRIBUTES:
            key, value, meta = _attribute(child)
            out[key] = value
            if meta:
                out[f"{key}@meta"] = meta
    return out


def _event_record(elem: etree._Element) -> tuple[str | None, str]:
    """(problem, text) of one ``<event>``: the JSON record, or why it cannot be read and its XML."""
    try:
        attrs = _attributes(elem)
    except _BadValue as exc:
        return str(exc), _raw_xml(elem)
    for key in _RESERVED:
        if key in attrs:
            attrs[f"event:{key}"] = attrs.pop(key)
    text = _JSON.encode(attrs)
    if len(text) > MAX_LINE_BYTES:
        return f"the event is longer than the {MAX_LINE_BYTES >> 20} MiB limit (line {elem.sourceline})", text[:_RAW_XML_CHARS]
    return None, text


def _trace_record(attrs: dict) -> str:
    record = {}
    if "concept:name" in attrs:
        record[XES_COLUMN_MAP["case_id"]] = attrs.pop("concept:name")
    if attrs:
        record[TRACE_KEY] = attrs
    return _JSON.encode(record)


def _raw_xml(elem: etree._Element) -> str:
    return etree.tostring(elem, encoding="unicode", with_tail=False)[:_RAW_XML_CHARS]


def _forget(elem: etree._Element, *, only_events: bool = False) -> None:
    """Free what iterparse built so far: the element's content and its earlier siblings (for an
    event in a trace, only the earlier events: the trace's attributes are read when it ends)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is None:
        return
    while (previous := elem.getprevious()) is not None:
        if only_events and _local(previous.tag) != "event":
            break
        parent.remove(previous)


class _Batches:
    """Rows collected in Python and handed to DuckDB an Arrow batch at a time."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.events: list[tuple] = []
        self.traces: list[tuple] = []

    def flush(self) -> None:
        for table, rows, schema in (
            ("_cc_xes_events", self.events, _EVENTS_SCHEMA), ("_cc_xes_traces", self.traces, _TRACES_SCHEMA)
        ):
            if not rows:
                continue
            columns = list(zip(*rows, strict=True))
            batch = pa.Table.from_arrays(
                [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
            )
            self.con.register("_cc_xes_chunk", batch)
            try:
                self.con.execute(f"insert into {table} select * from _cc_xes_chunk")
            finally:
                self.con.unregister("_cc_xes_chunk")
            rows.clear()


@contextmanager
def _open(path: Path):
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield fh
    else:
        with path.open("rb") as fh:
            yield fh


def _check_root(path: Path, elem: etree._Element) -> None:
    info = elem.getroottree().docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype:
        raise LandingError(
            path, f"declares a DTD (<!DOCTYPE {info.root_name or ''} ...>); XES logs carry none, and entity "
            "declarations (entity expansion, external entities) are not read: remove the DOCTYPE"
        )
    if _local(elem.tag) != "log":
        raise LandingError(path, f"is not an XES log: its root element is <{_local(elem.tag)}>, not <log>")


def _misplaced(elem: etree._Element, root: etree._Element) -> str | None:
    """Why a <trace> or <event> is not where XES puts it (None when it is): traces sit in the log,
    events in a trace of the log or in the log itself."""
    parent = elem.getparent()
    name = _local(elem.tag)
    if name == "log" and elem is not root:
        return f"has a <log> at line {elem.sourceline} inside <{_local(parent.tag)}>"
    if name == "trace" and parent is not root:
        return f"has a <trace> at line {elem.sourceline} inside <{_local(parent.tag)}>; XES traces sit in the <log>"
    if name == "event" and not (parent is root or (_local(parent.tag) == "trace" and parent.getparent() is root)):
        return (
            f"has an <event> at line {elem.sourceline} inside <{_local(parent.tag)}>; XES events sit in a "
            "<trace> or directly in the <log>"
        )
    return None


def _parse(path: Path, fh, batches: _Batches) -> None:
    """Walk the document: number events in document order, emit each event when it ends and each
    trace's attributes when the trace ends. Only <log>, <trace> and <event> produce parser events
    (``tag``): an event's and a trace's attributes are read from the element when it ends."""
    context = etree.iterparse(
        fh, events=("start", "end"), tag=("{*}log", "{*}trace", "{*}event"), resolve_entities=False,
        no_network=True, huge_tree=False, load_dtd=False, remove_comments=True, remove_pis=True,
    )
    root = None
    event_no = trace_no = 0
    for action, elem in context:
        if root is None:
            root = elem.getroottree().getroot()
            _check_root(path, root)
        if action == "start":
            if (why := _misplaced(elem, root)) is not None:
                raise LandingError(path, why)
            if _local(elem.tag) == "trace":
                trace_no += 1
        elif _local(elem.tag) == "event":
            event_no += 1
            problem, text = _event_record(elem)
            in_trace = elem.getparent() is not root
            batches.events.append((event_no, trace_no if in_trace else None, problem, text))
            if len(batches.events) >= CHUNK_EVENTS:
                batches.flush()
            _forget(elem, only_events=in_trace)
        elif _local(elem.tag) == "trace":
            try:
                batches.traces.append((trace_no, None, _trace_record(_attributes(elem))))
            except _BadValue as exc:
                batches.traces.append((trace_no, f"trace attribute: {exc}", "{}"))
            _forget(elem)
    if root is None and getattr(context, "root", None) is not None:
        _check_root(path, context.root)  # a document with no log, trace or event element at all
    batches.flush()


def read_xes(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read an XES file into ``_cc_records`` / ``_cc_json`` (see the module docstring); refuse it whole
    (LandingError with line and column) when it is not a readable XES document."""
    if path.stat().st_size == 0:
        _create_empty_records(con)
        return None
    con.execute("create temp table _cc_xes_events (_row bigint, _trace bigint, _problem varchar, _text varchar)")
    con.execute("create temp table _cc_xes_traces (_trace bigint, _problem varchar, _attrs varchar)")
    try:
        with _open(path) as fh:
            try:
                _parse(path, fh, _Batches(con))
            except etree.XMLSyntaxError as exc:
                line, column = exc.position if exc.position else (exc.lineno, 0)
                message = (exc.msg or "not well-formed").split(", line ")[0]
                raise LandingError(
                    path, f"is not well-formed XML at line {line}, column {column}: {message}; nothing was landed"
                ) from None
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                raise LandingError(path, f"cannot be read as gzip ({exc or type(exc).__name__}); is it a .xes.gz file?") from None
        con.execute(
            """create temp table _cc_records as
            select e._row,
                   case when coalesce(e._problem, t._problem) is null
                        then json_merge_patch(coalesce(t._attrs, '{}'), e._text)::varchar else e._text end as _text,
                   coalesce(e._problem, t._problem) as _problem
            from _cc_xes_events e left join _cc_xes_traces t using (_trace)
            order by e._row"""
        )
    finally:
        con.execute("drop table if exists _cc_xes_events")
        con.execute("drop table if exists _cc_xes_traces")
    con.execute(
        "create temp table _cc_json as select _row, _problem, (case when _problem is null then _text end)::json as j "
        "from _cc_records"
    )
    return None  # keys differ per event, as in JSON Lines (readers._json_keys)
