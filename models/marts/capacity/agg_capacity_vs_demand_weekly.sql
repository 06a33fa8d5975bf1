{#- Capacity vs demand per owner team x region x ISO week (UTC): runs started (demand) vs runs
    completed / ended (capacity), exceptions raised vs resolved, and the exception and in-flight
    run backlogs at week end. A spine from the team-region's first week with activity to the as_of
    week, so quiet weeks are rows of zeros and the backlogs carry over. Definitions:
    _capacity__docs.md. Incremental by week (doc incremental_rules): the pre_hook deletes the weeks
    new loads touch and those from the last build's as_of week on; this fills them, carrying the
    backlogs on from the last week it keeps. -#}

with

runs as (

    -- runs as of as_of (doc runs_as_of): a run that started later does not exist yet, one that
    -- ended later is still in flight
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

runs_as_of as (

    select
        runs.owner_team,
        runs.region,
        runs.started_at,
        runs.final_status,
        -- an end stamped before the start (skewed clocks, warned in fct_workflow_runs) counts at the start
        case when runs.ended_at is not null then greatest(runs.ended_at, runs.started_at) end as ended_at

    from runs

),

run_flows as (

    select
        owner_team,
        region,
        {{ week_start('started_at') }} as week_start,
        1 as runs_started,
        0 as runs_ended,
        0 as runs_completed,
        0 as exceptions_raised,
        0 as exceptions_resolved

    from runs_as_of

    union all

    select
        owner_team,
        region,
        {{ week_start('ended_at') }} as week_start,
        0 as runs_started,
        1 as runs_ended,
        case when final_status = 'completed' then 1 else 0 end as runs_completed,
        0 as exceptions_raised,
        0 as exceptions_resolved

    from runs_as_of
    where ended_at is not null

),

-- fct_exceptions already ignores events after as_of; a resolution stamped before the raise
-- (skewed clocks, warned in fct_exceptions) counts at the raise, so the backlog never goes negative
exception_flows as (

    select
        owner_team,
        region,
        {{ week_start('raised_at') }} as week_start,
        0 as runs_started,
        0 as runs_ended,
        0 as runs_completed,
        1 as exceptions_raised,
        0 as exceptions_resolved

    from exceptions

    union all

    select
        owner_team,
        region,
        {{ week_start('greatest(resolved_at, raised_at)') }} as week_start,
        0 as runs_started,
        0 as runs_ended,
        0 as runs_completed,
        0 as exceptions_raised,
        1 as exceptions_resolved

    from exceptions
    where resolved_at is not null

),

flows as (

    select * from run_flows
    union all
    select * from exception_flows

),

activity as (

    select
        owner_team,
        region,
        week_start,
        sum(runs_started) as runs_started,
        sum(runs_ended) as runs_ended,
        sum(runs_completed) as runs_completed,
        sum(exceptions_raised) as exceptions_raised,
        sum(exceptions_resolved) as exceptions_resolved

    from flows
    -- incremental: only the weeks the table is missing (the pre_hook deleted the recomputed ones)
    where {{ mart_missing_periods_filter('week_start', 'week_start') }}
    group by owner_team, region, week_start

),

activity_keys as (

    select owner_team, region, week_start
    from activity
    {%- if is_incremental() %}

    union all

    -- incremental: the team-regions the table has (their spine goes on to the as_of week)
    select owner_team, region, week_start
    from {{ this }}
    {%- endif %}

),

activity_bounds as (

    select
        activity_keys.owner_team,
        activity_keys.region,
        min(activity_keys.week_start) as first_week_start,
        max({{ week_start('as_of.as_of_ts') }}) as last_week_start,
        max(as_of.as_of_ts) as as_of_ts

    from activity_keys
    cross join as_of
    group by activity_keys.owner_team, activity_keys.region

),

spine as (

    {{ period_spine('activity_bounds', 'first_week_start', 'last_week_start', 'week', 'week_start') }}

),

filled as (

    select
        spine.owner_team,
        spine.region,
        spine.week_start,
        spine.week_start = spine.last_week_start as is_partial_week,
        case
            when spine.week_start = spine.last_week_start then spine.as_of_ts
            else cast({{ dbt.dateadd('day', 7, 'spine.week_start') }} as timestamp)
        end as week_end_at,

        coalesce(activity.runs_started, 0) as runs_started,
        coalesce(activity.runs_completed, 0) as runs_completed,
        coalesce(activity.runs_ended, 0) as runs_ended,
        coalesce(activity.exceptions_raised, 0) as exceptions_raised,
        coalesce(activity.exceptions_resolved, 0) as exceptions_resolved

    from spine
    left join activity
        on spine.owner_team = activity.owner_team
        and spine.region = activity.region
        and spine.week_start = activity.week_start
    where {{ mart_missing_periods_filter('spine.week_start', 'week_start') }}

),

carried as (

    -- the backlogs at the end of the last week the table keeps (incremental; none on a full build):
    -- the running sums below go on from them
    {%- if is_incremental() %}
    select
        kept.owner_team,
        kept.region,
        kept.runs_in_flight_at_week_end,
        kept.backlog_at_week_end as exception_backlog_at_week_end

    from {{ this }} as kept
    inner join (
        select owner_team, region, max(week_start) as week_start
        from {{ this }}
        group by owner_team, region
    ) as last_kept
        on kept.owner_team = last_kept.owner_team
        and kept.region = last_kept.region
        and kept.week_start = last_kept.week_start
    {%- else %}
    select
        cast(null as varchar) as owner_team,
        cast(null as varchar) as region,
        cast(0 as bigint) as runs_in_flight_at_week_end,
        cast(0 as bigint) as exception_backlog_at_week_end
    where false
    {%- endif %}

),

-- every flow of the team-region lies in or after its first spine week and at or before as_of,
-- so a running sum of the weekly flows is the state at each week's end
backlogs as (

    select
        filled.*,
        coalesce(carried.runs_in_flight_at_week_end, 0) + sum(runs_started - runs_ended) over (
            partition by filled.owner_team, filled.region
            order by filled.week_start
            rows between unbounded preceding and current row
        ) as runs_in_flight_at_week_end,
        coalesce(carried.exception_backlog_at_week_end, 0) + sum(exceptions_raised - exceptions_resolved) over (
            partition by filled.owner_team, filled.region
            order by filled.week_start
            rows between unbounded preceding and current row
        ) as exception_backlog_at_week_end,
        coalesce(carried.runs_in_flight_at_week_end, 0) as carried_runs_in_flight,
        coalesce(carried.exception_backlog_at_week_end, 0) as carried_exception_backlog

    from filled
    left join carried
        on filled.owner_team = carried.owner_team
        and filled.region = carried.region

),

changes as (

    select
        backlogs.*,
        exception_backlog_at_week_end - coalesce(
            lag(exception_backlog_at_week_end) over (partition by owner_team, region order by week_start),
            carried_exception_backlog
        ) as exception_backlog_change,
        runs_in_flight_at_week_end - coalesce(
            lag(runs_in_flight_at_week_end) over (partition by owner_team, region order by week_start),
            carried_runs_in_flight
        ) as runs_in_flight_change

    from backlogs

),

final as (

    select
        cast(owner_team as varchar) as owner_team,
        cast(region as varchar) as region,
        week_start,
        week_end_at,
        is_partial_week,

        cast(runs_started as bigint) as runs_started,
        cast(runs_completed as bigint) as runs_completed,
        cast(runs_ended as bigint) as runs_ended,
        case
            when runs_started = 0 then null
            else cast(runs_completed as double) / runs_started
        end as completed_to_started_ratio,
        cast(runs_in_flight_at_week_end as bigint) as runs_in_flight_at_week_end,
        cast(runs_in_flight_change as bigint) as runs_in_flight_change,

        cast(exceptions_raised as bigint) as exceptions_raised,
        cast(exceptions_resolved as bigint) as exceptions_resolved,
        cast(exception_backlog_at_week_end as bigint) as backlog_at_week_end,
        cast(exception_backlog_change as bigint) as backlog_change,

        {{ mart_build_state_columns() }}

    from changes
    cross join build_state

)

select * from final
