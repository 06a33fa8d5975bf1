"""Jinja stand-ins for dbt's `adapter` and `dbt` namespaces when sqlfluff lints models/ and macros/ with
its jinja templater (.sqlfluff: library_path). The jinja templater is much faster than the dbt one
and needs no warehouse; the project's own macros load from macros/ (load_macros_from_path), and a
cross-database call renders as a plain SQL function call of the same name (`week_start(x)`), which
sqlfluff parses like any function. Not used by dbt."""
