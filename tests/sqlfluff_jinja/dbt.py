"""dbt-core's cross-database macros (`dbt.dateadd(...)` and the like) render `dateadd(...)` (linting only)."""
from __future__ import annotations

from ._placeholder import placeholder


def type_string() -> str:
    return "varchar"


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return placeholder(name)
