"""`adapter.dispatch(name, package)(args)` renders `name(args)` (linting only)."""
from __future__ import annotations

from ._placeholder import placeholder


def dispatch(name: str, package: str | None = None):
    return placeholder(name)


def get_relation(database=None, schema=None, identifier=None):
    """`adapter.get_relation(...)`: no warehouse while linting, so the relation does not exist."""
    return None
