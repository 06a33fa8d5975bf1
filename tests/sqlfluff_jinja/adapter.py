"""`adapter.dispatch(name, package)(args)` renders `name(args)` (linting only)."""
from __future__ import annotations

from ._placeholder import placeholder


def dispatch(name: str, package: str | None = None):
    return placeholder(name)
