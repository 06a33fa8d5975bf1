{#- The body of a CTE: one row per run (workflow_id, run_id) of the scope with the run's first_event_at,
    last_event_at and max_loaded_at over all its events, read from int_runs_summarized (runs), which
    computes them from the same events (min / max event_ts, max loaded_at of every event of the run)
    and is built before the per-run stage summaries that call this. The stage summaries carry them on
    every row (several rows per run) for the incremental rules: retention (first_event_at,
    last_event_at) and the high-water mark (max_loaded_at).
    Not an aggregate of the model's scoped_events: a second reader of that CTE made DuckDB materialize
    every event of the scope (all events on a full build: at 100M int_approvals_summarized took 77 s,
    at 10M under a 300 MB limit its compiled SQL 6.4 s against 0.5 s this way).
    Incremental (inside incremental_scope_ctes' with): only the touched runs (touched_keys). -#}
{% macro run_event_bounds(runs) -%}
select
        runs.workflow_id,
        runs.run_id,
        runs.first_event_at,
        runs.last_event_at,
        runs.max_loaded_at

    from {{ runs }} as runs
    {%- if is_incremental() %}
    where (runs.workflow_id, runs.run_id) in (
        select
            touched_keys.workflow_id,
            touched_keys.run_id
        from touched_keys
    )
    {%- endif %}
{%- endmacro %}
