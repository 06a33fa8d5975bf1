"""A dispatched macro as a SQL function call of its name, for linting only."""
from __future__ import annotations

from collections.abc import Callable


def _sql(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_sql(v) for v in value)
    text = str(value)
    # a plain string argument (a separator, a date part) rather than a SQL expression: quote it
    if not text.strip() or not (text.strip()[0].isalnum() or text.strip()[0] in "_'\"(*-"):
        return "'" + text.replace("'", "''") + "'"
    return text


def placeholder(name: str) -> Callable[..., str]:
    def render(*args: object, **kwargs: object) -> str:
        if name == "period_spine":  # renders a whole select: stand in a select of its relation
            return f"select * from {args[0]}"
        return f"{name}({', '.join(_sql(a) for a in [*args, *kwargs.values()])})"

    return render
