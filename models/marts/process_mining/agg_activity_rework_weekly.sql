{#- One row per workflow x ISO week (the week of the case's first event, UTC) x activity that occurs
    among the week's cases' activity instances: the cases it occurs in, the cases where it repeats
    (rework), the activity's rework rate and its instances beyond the first of each case - which
    activities the workflow loops on. Definitions: _process_mining__docs.md (pm_rework,
    pm_activity_rework). Incremental by week (macros/incremental/mart_recompute.sql), from
    int_case_events_sequenced like agg_rework_weekly's cases. -#}

with

instances as (

    select
        workflow_id,
        case_id,
        activity,
        {{ week_start('first_event_at') }} as week_start

    from {{ ref('int_case_events_sequenced') }}
    where is_activity_instance
        -- incremental: the weeks the table is missing (the pre_hook deleted the recomputed ones)
        and {{ mart_missing_periods_filter(week_start('first_event_at'), 'week_start') }}
        {%- set missing_from = mart_missing_periods_floor([ref('int_case_events_sequenced')], 'week_start', 'week') %}
        {%- if missing_from is not none %}
        -- the same filter as a literal (the first missing week's start, read before the pre_hook):
        -- the scan skips the kept weeks' row groups instead of reading every activity instance
        and first_event_at >= {{ missing_from }}
        {%- endif %}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

per_case as (

    -- how many times each activity occurs in each case
    select
        workflow_id,
        week_start,
        activity,
        case_id,
        count(*) as occurrences

    from instances
    group by workflow_id, week_start, activity, case_id

),

aggregated as (

    select
        workflow_id,
        week_start,
        activity,
        count(*) as cases,
        sum(case when occurrences > 1 then 1 else 0 end) as rework_cases,
        sum(occurrences) as instances

    from per_case
    group by workflow_id, week_start, activity

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'week_start', 'activity']) }} as activity_week_key,
        workflow_id,
        week_start,
        activity,
        cast(cases as bigint) as cases,
        cast(rework_cases as bigint) as rework_cases,
        round(cast(rework_cases as double) / cases, 6) as rework_rate,
        cast(instances as bigint) as instances,
        cast(instances - cases as bigint) as repeated_instance_count,

        {{ mart_build_state_columns() }}

    from aggregated
    cross join build_state

)

select * from final
