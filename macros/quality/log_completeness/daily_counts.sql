{#- The daily event counts of the active workflows on a date spine (future-dated events excluded),
    read by the daily_volume and no_silent_days checks. The spine starts no earlier than the data
    present allows (period_spine's floor: the retention window before the latest day, or var
    earliest_event_date), so one absurd old event cannot make it run from year 1. -#}
{% macro log_completeness_daily_counts_ctes(s) -%}
latest as (

    select {{ day_start('max(last_event_at)') }} as latest_day
    from workflow_day_events

),

workflow_day_counts as (

    select
        workflow_id,
        day,
        events

    from workflow_day_events

),

active_workflows as (

    -- active: at least one event in the 7 days before the latest day or on it; the spine runs over
    -- complete days only, from the workflow's first event day to the day before the latest day
    select
        workflow_day_counts.workflow_id,
        min(workflow_day_counts.day) as first_day,
        max(workflow_day_counts.day) as last_event_day,
        {{ add_days('max(latest.latest_day)', -1) }} as last_complete_day

    from workflow_day_counts
    cross join latest
    group by workflow_day_counts.workflow_id
    having max(workflow_day_counts.day) >= {{ add_days('max(latest.latest_day)', -7) }}
        and min(workflow_day_counts.day) < max(latest.latest_day)

),

workflow_day_spine as (

    {{ period_spine('active_workflows', 'first_day', 'last_complete_day', 'day', 'day') }}

),

daily_counts as (

    select
        workflow_day_spine.workflow_id,
        workflow_day_spine.first_day,
        workflow_day_spine.day,
        coalesce(workflow_day_counts.events, 0) as events

    from workflow_day_spine
    left join workflow_day_counts
        on workflow_day_spine.workflow_id = workflow_day_counts.workflow_id
        and workflow_day_spine.day = workflow_day_counts.day

),
{%- endmacro %}
