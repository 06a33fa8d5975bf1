"""The report's HTML: one self-contained page (inline CSS and SVG, no script, no external resource;
a Content-Security-Policy forbids fetching anything). Every string from the data goes through
Jinja's autoescaping; chart SVG (matplotlib's escaped XML) is the only markup inserted as is.

Each table cell carries ``data-col`` and ``data-value`` (the mart's value, unformatted) beside its
formatted text, and each row ``data-row`` (its key), so a reader or a test can compare the page
with the marts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from orchestration.lib.report.data import Column, Table

TEMPLATES = Path(__file__).parent / "templates"
NUMERIC_KINDS = {"int", "hours", "minutes", "age", "pct", "pct100", "signed_pct100", "money", "num", "by_unit"}


@dataclass
class Panel:
    key: str
    title: str
    note: str = ""
    svg: str = ""
    chart_label: str = ""
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Cell:
    text: str
    value: str
    css: str


def _by_unit(value: float, unit: str | None) -> str:
    if unit == "seconds":
        return f"{value / 3600:,.2f} h"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "hours":
        return f"{value:,.2f} h"
    if unit == "exceptions":
        return f"{value:,.1f}"
    return f"{value:,.2f} {unit or ''}".rstrip()


FORMATS = {
    "text": str,
    "int": lambda v: f"{int(v):,}",
    "hours": lambda v: f"{v / 3600:,.2f} h",
    "minutes": lambda v: f"{v / 60:,.1f} min",
    "age": lambda v: f"{v / 86400:,.1f} d" if v >= 86400 else f"{v / 3600:,.1f} h",
    "pct": lambda v: f"{v * 100:.1f}%",
    "pct100": lambda v: f"{v:.1f}%",
    "signed_pct100": lambda v: f"{v:+.1f}%",
    "money": lambda v: f"{v:,.2f}",
    "num": lambda v: f"{v:,.2f}",
    "date": lambda v: v.isoformat(),
    "ts": lambda v: f"{v:%Y-%m-%d %H:%M} UTC",
    "bool": lambda v: "yes" if v else "no",
}


def format_value(kind: str, value: Any, row: dict[str, Any] | None = None) -> str:
    """The text a cell shows ('–' for a missing value)."""
    if value is None:
        return "–"
    if kind == "by_unit":
        return _by_unit(value, (row or {}).get("unit"))
    return FORMATS[kind](value)


def raw_value(value: Any) -> str:
    """The cell's data-value: the mart's value as text (floats in full, dates ISO, booleans true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_cell(col: Column, cells: dict[str, Any]) -> Cell:
    value = cells.get(col.key)
    css = "num" if col.kind in NUMERIC_KINDS else "nowrap" if col.kind in ("date", "ts") else ""
    return Cell(format_value(col.kind, value, cells), raw_value(value), css)


def render(panels: list[Panel], *, week: date, week_end: date, as_of: datetime, source: str) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      keep_trailing_newline=True)
    template = env.get_template("report.html.j2")
    for panel in panels:
        panel.svg = Markup(panel.svg) if panel.svg else ""  # noqa: S704 -- matplotlib's SVG, its text XML-escaped
    return template.render(panels=panels, week=week, week_end=week_end, as_of=f"{as_of:%Y-%m-%d %H:%M}",
                           source=source, format_cell=format_cell)
