{#- Log-completeness check one_run_started: a telemetry run with no run_started (unless it is an edge run) or with two or more.
    Renders its CTEs (each ending with a comma; the last one is named one_run_started) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_one_run_started in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_one_run_started() -%}
one_run_started as (

    select
        'one_run_started' as check_name,
        workflow_id,
        run_id,
        second_run_started_event_id as event_id,
        {{ day_start('coalesce(first_run_started_at, first_event_at)') }} as event_day,
        case
            when run_started_count = 0 then 'no run_started event'
            else cast(run_started_count as varchar) || ' run_started events'
        end as detail

    from telemetry_runs
    where run_started_count <> 1
        and not is_edge_run

),
{%- endmacro %}
