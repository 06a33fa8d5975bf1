"""dbt's `run_started_at` for the jinja templater (linting only): a fixed instant."""
import datetime

_AT = datetime.datetime(2026, 1, 1)


def strftime(fmt: str) -> str:
    return _AT.strftime(fmt)


def isoformat() -> str:
    return _AT.isoformat()
