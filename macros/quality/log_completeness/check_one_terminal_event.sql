{#- Log-completeness check one_terminal_event: a telemetry run with two or more terminal events, unless run_failed then run_compensated (the saga pair).
    Renders its CTEs (each ending with a comma; the last one is named one_terminal_event) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_one_terminal_event in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_one_terminal_event() -%}
one_terminal_event as (

    select
        'one_terminal_event' as check_name,
        workflow_id,
        run_id,
        second_terminal_event_id as event_id,
        {{ day_start('ended_at') }} as event_day,
        cast(terminal_count as varchar) || ' terminal events (run_completed ' || cast(completed_count as varchar)
            || ', run_failed ' || cast(failed_count as varchar)
            || ', run_compensated ' || cast(compensated_count as varchar) || ')'
            || case
                when terminal_count = 2 and failed_count = 1 and compensated_count = 1
                    then ': run_compensated before run_failed'
                else ''
            end as detail

    from telemetry_runs
    where terminal_count >= 2
        and not is_saga_pair

),
{%- endmacro %}
