"""Say what happened: a one-line hint when a large share of a file is quarantined for one reason.

Pure functions of a landing's counts: rows read, quarantined rows per reason code and, per reason,
the reason_detail of its first quarantined row (``LandingResult.quarantine_samples``, the same text
raw.quarantine holds). The CLI prints the hints after each file; the Dagster landing asset shows
them as materialization metadata.

    event_ts is unparseable in 62% of rows; they look like '09-10-2012 14:50:17': pass
    --timestamp-format '%d-%m-%Y %H:%M:%S' (or '%m-%d-%Y %H:%M:%S' if the month comes first)
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from orchestration.lib.contract import MINIMAL_FIELDS
from orchestration.lib.landing.common import LandingResult

#: A reason gets a hint when it quarantines more than this share of the file's rows.
HINT_THRESHOLD = 0.05

_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_TIME = re.compile(
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?P<frac>[.,]\d{1,6})?)?(?:(?P<ampm_space> ?)(?P<ampm>[AaPp][Mm]))?"
)
_OFFSET = re.compile(r"\s*(?P<tz>[+-]\d{2}:?\d{2})")


def _time_format(match: re.Match) -> str:
    hour = "%I" if match["ampm"] else "%H"
    fmt = f"{hour}:%M"
    if match["s"]:
        fmt += ":%S"
    if match["frac"]:
        fmt += match["frac"][0] + "%f"
    if match["ampm"]:
        fmt += match["ampm_space"] + "%p"
    return fmt


def _date_formats(text: str) -> tuple[list[str], str] | None:
    """Candidate strptime formats for the date at the start of ``text`` (most likely first), and the
    rest of the text."""
    if m := re.match(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", text):
        sep = m[2]
        return [f"%Y{sep}%m{sep}%d"], text[m.end():]
    if m := re.match(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})", text):
        first, sep, second = int(m[1]), m[2], int(m[3])
        year = "%Y" if len(m[4]) == 4 else "%y"
        day_first, month_first = f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"
        if first > 12:
            formats = [day_first]
        elif second > 12:
            formats = [month_first]
        else:  # ambiguous: day first (most process-mining exports), month first as the alternative
            formats = [day_first, month_first]
        return formats, text[m.end():]
    if m := re.match(rf"(\d{{1,2}})([ -])({_MONTHS})([a-z]*)\.?\2(\d{{4}})", text, re.IGNORECASE):
        month = "%B" if m[4] else "%b"
        return [f"%d{m[2]}{month}{m[2]}%Y"], text[m.end():]
    if m := re.match(rf"({_MONTHS})([a-z]*)\.? (\d{{1,2}}),? (\d{{4}})", text, re.IGNORECASE):
        month = "%B" if m[2] else "%b"
        comma = "," if "," in m[0] else ""
        return [f"{month} %d{comma} %Y"], text[m.end():]
    if m := re.match(r"(\d{4})(\d{2})(\d{2})(?=$|[ T])", text):
        return ["%Y%m%d"], text[m.end():]
    return None


def guess_strptime_formats(sample: str) -> list[str]:
    """strptime formats that read ``sample`` (a timestamp as written in the file), most likely first;
    [] when the layout is not recognised. Day and month that could be either give both orders."""
    text = sample.strip()
    dates = _date_formats(text)
    if dates is None:
        return []
    formats, rest = dates
    time_fmt = ""
    if rest:
        sep = rest[0]
        if sep not in " T":
            return []
        spaces = re.match(r"[ T]\s*", rest)
        sep = rest[: spaces.end()]
        rest = rest[spaces.end():]
        t = _TIME.match(rest)
        if not t:
            return []
        time_fmt = sep + _time_format(t)
        rest = rest[t.end():]
        if rest:
            o = _OFFSET.fullmatch(rest)
            if not o:
                return []
            time_fmt += rest[: o.start("tz")] + "%z"
    return [f + time_fmt for f in formats]


def quoted_value(detail: str | None) -> str | None:
    """The value a reason_detail quotes: ``event_ts '09-10-2012 14:50' is not ISO 8601`` ->
    ``09-10-2012 14:50`` (the value may itself hold quotes: up to the last quote before the verb)."""
    if not detail:
        return None
    m = re.match(r"\w+ '(.*)' (?:is |has |matches |repeats |was )", detail, re.DOTALL)
    return m[1] if m else None


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


def _timestamp_hint(pct: str, detail: str | None) -> str:
    value = quoted_value(detail)
    looks = f"; they look like '{value}'" if value is not None else ""
    if detail and " has UTC offset " in detail:
        offset = detail.split(" has UTC offset ", 1)[1].split(" ", 1)[0]
        return (
            f"event_ts has a UTC offset beyond -14:00..+14:00 in {pct} of rows (e.g. {offset}){looks}: "
            "no civil clock uses it; fix the producer's offset"
        )
    if detail and "matches neither --timestamp-format" in detail:
        fmt = detail.split("--timestamp-format '", 1)[1].rsplit("' nor ISO 8601", 1)[0]
        guesses = [g for g in guess_strptime_formats(value or "") if g != fmt]
        fix = f"try --timestamp-format '{guesses[0]}'" if guesses else "check the format against them"
        return f"event_ts does not match --timestamp-format '{fmt}' in {pct} of rows{looks}: {fix}"
    if value is not None and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        return (
            f"event_ts is a date without a time of day in {pct} of rows{looks}: a timestamp needs one; "
            "pass --timestamp-format '%Y-%m-%d' to read them as midnight"
        )
    guesses = guess_strptime_formats(value or "")
    if not guesses:
        fix = "pass --timestamp-format with their strptime layout (e.g. '%d-%m-%Y %H:%M:%S')"
    else:
        fix = f"pass --timestamp-format '{guesses[0]}'"
        if len(guesses) > 1:
            fix += f" (or '{guesses[1]}' if the month comes first)"
    if not any("%z" in g for g in guesses):
        fix += ", and --timezone ZONE if they are local time"
    return f"event_ts is unparseable in {pct} of rows{looks}: {fix}"


def _missing_field_hint(pct: str, detail: str | None) -> str:
    field = (detail or "a required field").split(" ", 1)[0]
    if field == "region":
        return f"region is missing in {pct} of rows: pass --region REGION or map a region column (--map region=COLUMN)"
    if field in MINIMAL_FIELDS:
        return (
            f"{field} is missing or blank in {pct} of rows: if another column holds it, "
            f"pass --map {field}=COLUMN"
        )
    return (
        f"{field} is missing or blank in {pct} of rows: if the file is a process-mining log (case_id, event_name, "
        "timestamp, actor), land it with --log-format minimal --workflow NAME (and --map FIELD=COLUMN for "
        "other column names); otherwise the producer omits the field"
    )


def _hint(reason: str, pct: str, detail: str | None) -> str:
    value = quoted_value(detail)
    example = f" (e.g. {detail})" if detail else ""
    if reason == "unparseable_timestamp":
        return _timestamp_hint(pct, detail)
    if reason == "missing_required_field":
        return _missing_field_hint(pct, detail)
    if reason == "unknown_event_type":
        return (
            f"event_type is not a contract event type in {pct} of rows{example}: if the file is a process-mining "
            "log whose rows are activities, land it with --log-format minimal --workflow NAME (--map "
            "event_name=COLUMN); otherwise map the producer's types to the contract's (docs/event-contract.md)"
        )
    if reason == "duplicate_event_id":
        return (
            f"{pct} of rows were loaded before by another file"
            + (f" (e.g. event_id '{value}')" if value else "")
            + ": the file was probably landed before under another name, or overlaps an earlier export; "
            "nothing more to do if so (the earlier copy is kept)"
        )
    if reason == "duplicate_event_id_in_file":
        return (
            f"event_id repeats within the file in {pct} of rows"
            + (f" (e.g. '{value}')" if value else "")
            + ": the producer reuses ids (only each id's first row is loaded); fix the ids at the source"
        )
    if reason == "malformed_record" and detail and "attribute" in detail and "(line " in detail:
        return (  # an XES event whose attribute cannot be read (landing/xes.py names it and its line)
            f"{pct} of XES events have an attribute that cannot be read{example}: fix it at the line named "
            "(every attribute needs a key and a value; an int, float or boolean must hold one)"
        )
    if reason == "malformed_record":
        return (
            f"{pct} of records cannot be parsed{example}: check the file's format against its extension, its "
            "encoding (UTF-8), the CSV delimiter (',') and quoting ('\"')"
        )
    if reason == "future_timestamp":
        return (
            f"event_ts is more than a day after landing in {pct} of rows{example}: if the timestamps are local "
            "time, pass --timezone ZONE; otherwise the producer's clock is wrong"
        )
    if reason == "residency_violation":
        return (
            f"{pct} of rows come from a region with eu_only_processing{example}, and this warehouse is not "
            "declared in the EU: land them into an EU warehouse (data_controls.warehouse: {region: eu-west-1}), "
            "or correct the region if it is wrong (docs/residency.md)"
        )
    if reason == "expired":
        return (
            f"event_ts is older than the retention in {pct} of rows{example}: an old export, or a wrong year "
            "in the timestamps (check --timestamp-format)"
        )
    return f"{pct} of rows are quarantined as {reason}{example}; see docs/event-contract.md"


def landing_hints(
    rows_read: int,
    reasons: Mapping[str, int],
    samples: Mapping[str, str] | None = None,
    *,
    threshold: float = HINT_THRESHOLD,
    hint=None,
) -> list[str]:
    """One line per reason that quarantined more than ``threshold`` of the ``rows_read`` rows,
    largest share first, naming the likely cause and its fix. ``samples``: per reason, the
    reason_detail of one quarantined row (the example quoted). ``hint(reason, pct, detail)``
    words each line (default: the event contract's)."""
    if rows_read <= 0:
        return []
    samples = samples or {}
    flagged = sorted(
        ((n / rows_read, reason) for reason, n in reasons.items() if n / rows_read > threshold),
        key=lambda x: (-x[0], x[1]),
    )
    return [(hint or _hint)(reason, _percent(share), samples.get(reason)) for share, reason in flagged]


def hints_for_result(result: LandingResult, *, threshold: float = HINT_THRESHOLD) -> list[str]:
    """``landing_hints`` of one landed file (none for a file that was already loaded)."""
    if result.status != "loaded":
        return []
    from orchestration.lib.landing.governance_log import GOVERNANCE_LOG_FORMAT, governance_hint

    return landing_hints(
        result.rows_read, result.quarantine_reasons, result.quarantine_samples, threshold=threshold,
        hint=governance_hint if result.log_format == GOVERNANCE_LOG_FORMAT else None,
    )
