{#- Log-completeness check no_future_events: an event dated more than the allowed skew after its landing or after the current time.
    Renders its CTEs (each ending with a comma; the last one is named no_future_events) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_no_future_events in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_no_future_events(s) -%}
no_future_events as (

    select
        'no_future_events' as check_name,
        workflow_id,
        run_id,
        event_id,
        -- attributed to the day it landed (its own day may be years ahead)
        {{ day_start('loaded_at') }} as event_day,
        case
            when is_after_landing_skew
                then 'event_ts more than {{ s.max_future_skew_hours }} h after loaded_at'
            else 'event_ts more than {{ s.max_future_skew_hours }} h after the current time'
        end as detail

    from flagged_events
    where is_future

),
{%- endmacro %}
