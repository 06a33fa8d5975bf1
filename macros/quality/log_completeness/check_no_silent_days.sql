{#- Log-completeness check no_silent_days: a day without events of a workflow whose median day is busy.
    Renders its CTEs (each ending with a comma; the last one is named no_silent_days) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_no_silent_days in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_no_silent_days(s) -%}
workflow_typical_volume as (

    select
        workflow_id,
        {{ percentile_cont('events', 0.5) }} as median_daily_events

    from daily_counts
    group by workflow_id

),

no_silent_days as (

    select
        'no_silent_days' as check_name,
        daily_counts.workflow_id,
        cast(null as varchar) as run_id,
        cast(null as varchar) as event_id,
        daily_counts.day as event_day,
        'no events (the workflow''s median day has ' || cast(workflow_typical_volume.median_daily_events as varchar)
            || ')' as detail

    from daily_counts
    inner join workflow_typical_volume
        on daily_counts.workflow_id = workflow_typical_volume.workflow_id
    where daily_counts.events = 0
        and workflow_typical_volume.median_daily_events >= {{ s.volume_min_median_events }}

),
{%- endmacro %}
