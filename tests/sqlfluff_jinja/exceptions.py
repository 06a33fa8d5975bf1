"""dbt's `exceptions` namespace for the jinja templater (linting only): a raise renders nothing."""


def raise_compiler_error(message: str = "") -> str:
    return ""


def warn(message: str = "") -> str:
    return ""
