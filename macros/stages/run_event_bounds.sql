{#- The body of a CTE: one row per run (workflow_id, run_id) of `events` (a CTE or relation with
    event_ts and loaded_at, e.g. incremental_scope_ctes' scoped_events) with the run's first_event_at,
    last_event_at and max_loaded_at over all its events. The per-run stage summaries carry them on
    every row (several rows per run) for the incremental rules: retention (first_event_at,
    last_event_at) and the high-water mark (max_loaded_at). -#}
{% macro run_event_bounds(events) -%}
select
        workflow_id,
        run_id,
        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at,
        max(loaded_at) as max_loaded_at

    from {{ events }}
    group by workflow_id, run_id
{%- endmacro %}
