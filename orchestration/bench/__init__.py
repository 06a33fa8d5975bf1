"""`python -m orchestration.bench`: the warehouse benchmark (docs/benchmarks.md).

Generates events with the project's generator, then measures in child processes (one per
repetition, so each has its own peak RSS): landing, dbt run / dbt build, an incremental one-day
build, a hand-written DuckDB SQL floor (floor.sql) and a pandas implementation of the same core
outputs; checks the floor and pandas outputs equal the project's marts.
"""
