{#- One row per workflow x exception class x routed owner x ISO week (week_start = the Monday, UTC),
    from the combination's first to its last week with activity. Each event counts in the week it
    happened: raised / acknowledged / resolved in the week of raised_at / first_touch_at /
    resolved_at, an SLO breach in the week its clock ran out. Definitions: doc blocks in
    _exceptions__docs.md (exception_weekly_attribution and the metric blocks). Incremental by week
    (doc incremental_rules): the pre_hook deletes the weeks new loads touch and those from the last
    build's as_of week on; this fills them (the spine's bounds still come from every exception). -#}

with

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

attributions as (

    select 'raised' as counted_as
    union all
    select 'acknowledged' as counted_as
    union all
    select 'resolved' as counted_as
    union all
    select 'first_touch_breached' as counted_as
    union all
    select 'resolution_breached' as counted_as

),

keyed as (

    select
        workflow_id,
        coalesce(exception_class, 'UNKNOWN') as exception_class,
        routed_owner,

        raised_at,
        first_touch_at,
        resolved_at,
        time_to_first_touch_seconds,
        time_to_resolution_seconds,
        first_touch_target_seconds,
        resolution_target_seconds,
        first_touch_breached,
        resolution_breached,
        first_touch_at is null as is_untouched,
        is_open,

        -- the instant each SLO clock ran out (fct_exceptions' verdicts are "clock > target", so a
        -- breached exception was still untouched / unresolved at that instant); null unless breached
        case
            when first_touch_breached
                then {{ timestamp_add_seconds('raised_at', 'snooze_seconds + first_touch_target_seconds') }}
        end as first_touch_breached_at,
        case
            when resolution_breached
                then {{ timestamp_add_seconds('raised_at', 'resolution_target_seconds') }}
        end as resolution_breached_at,

        as_of.as_of_ts

    from exceptions
    cross join as_of

),

exception_weeks as (

    -- one scan of the exceptions: each exception once per event it had, in that event's week
    -- (no event, e.g. not yet acknowledged, gives a null week and drops out below)
    select
        keyed.*,
        attributions.counted_as,
        case
            when attributions.counted_as = 'raised' then {{ week_start('keyed.raised_at') }}
            when attributions.counted_as = 'acknowledged' then {{ week_start('keyed.first_touch_at') }}
            when attributions.counted_as = 'resolved' then {{ week_start('keyed.resolved_at') }}
            when attributions.counted_as = 'first_touch_breached' then {{ week_start('keyed.first_touch_breached_at') }}
            when attributions.counted_as = 'resolution_breached' then {{ week_start('keyed.resolution_breached_at') }}
        end as period_start

    from keyed
    cross join attributions

),

activity as (

    select
        workflow_id,
        exception_class,
        routed_owner,
        period_start,

        sum(case when counted_as = 'raised' then 1 else 0 end) as exceptions_raised,
        sum(case when counted_as = 'acknowledged' then 1 else 0 end) as exceptions_acknowledged,
        sum(case when counted_as = 'resolved' then 1 else 0 end) as exceptions_resolved,

        {{ percentile_cont("case when counted_as = 'acknowledged' then time_to_first_touch_seconds end", 0.5, fractions=[0.5, 0.9]) }}
            as time_to_first_touch_p50_seconds,
        {{ percentile_cont("case when counted_as = 'acknowledged' then time_to_first_touch_seconds end", 0.9, fractions=[0.5, 0.9]) }}
            as time_to_first_touch_p90_seconds,
        {{ percentile_cont("case when counted_as = 'resolved' then time_to_resolution_seconds end", 0.5, fractions=[0.5, 0.9]) }}
            as time_to_resolution_p50_seconds,
        {{ percentile_cont("case when counted_as = 'resolved' then time_to_resolution_seconds end", 0.9, fractions=[0.5, 0.9]) }}
            as time_to_resolution_p90_seconds,

        sum(case when counted_as = 'acknowledged' and not first_touch_breached then 1 else 0 end)
            as acknowledged_within_slo,
        sum(case when counted_as = 'resolved' and not resolution_breached then 1 else 0 end)
            as resolved_within_slo,

        sum(case when counted_as = 'first_touch_breached' then 1 else 0 end) as first_touch_breaches,
        sum(case when counted_as = 'first_touch_breached' and is_untouched then 1 else 0 end)
            as first_touch_breaches_untouched,
        sum(case when counted_as = 'resolution_breached' then 1 else 0 end) as resolution_breaches,
        sum(case when counted_as = 'resolution_breached' and is_open then 1 else 0 end)
            as resolution_breaches_open

    from exception_weeks
    where period_start is not null
        -- incremental: only the weeks the table is missing (the pre_hook deleted the recomputed ones)
        and {{ mart_missing_periods_filter('period_start', 'week_start') }}
    group by workflow_id, exception_class, routed_owner, period_start

),

activity_bounds as (

    -- targets are the workflow's (constant within a combination): carried onto quiet weeks too
    select
        workflow_id,
        exception_class,
        routed_owner,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start,
        max(first_touch_target_seconds) as first_touch_target_seconds,
        max(resolution_target_seconds) as resolution_target_seconds,
        max(as_of_ts) as as_of_ts

    from exception_weeks
    where period_start is not null
    group by workflow_id, exception_class, routed_owner

),

spine as (

    {{ period_spine('activity_bounds', 'first_period_start', 'last_period_start', 'week', 'period_start') }}

),

final as (

    select
        spine.workflow_id,
        spine.exception_class,
        spine.routed_owner,
        spine.period_start as week_start,

        spine.first_touch_target_seconds,
        spine.resolution_target_seconds,

        cast(coalesce(activity.exceptions_raised, 0) as bigint) as exceptions_raised,
        cast(coalesce(activity.exceptions_acknowledged, 0) as bigint) as exceptions_acknowledged,
        cast(coalesce(activity.exceptions_resolved, 0) as bigint) as exceptions_resolved,

        -- rounded to the microsecond (the precision of timestamps): hides interpolation float noise
        cast(round(activity.time_to_first_touch_p50_seconds, 6) as double) as time_to_first_touch_p50_seconds,
        cast(round(activity.time_to_first_touch_p90_seconds, 6) as double) as time_to_first_touch_p90_seconds,
        cast(round(activity.time_to_resolution_p50_seconds, 6) as double) as time_to_resolution_p50_seconds,
        cast(round(activity.time_to_resolution_p90_seconds, 6) as double) as time_to_resolution_p90_seconds,

        -- SLO counts are null, not 0, for a workflow without the target (unregistered): no verdict
        case
            when spine.first_touch_target_seconds is not null
                then cast(coalesce(activity.acknowledged_within_slo, 0) as bigint)
        end as acknowledged_within_slo,
        case
            when spine.resolution_target_seconds is not null
                then cast(coalesce(activity.resolved_within_slo, 0) as bigint)
        end as resolved_within_slo,
        case
            when spine.first_touch_target_seconds is not null
                then cast(coalesce(activity.first_touch_breaches, 0) as bigint)
        end as first_touch_breaches,
        case
            when spine.first_touch_target_seconds is not null
                then cast(coalesce(activity.first_touch_breaches_untouched, 0) as bigint)
        end as first_touch_breaches_untouched,
        case
            when spine.resolution_target_seconds is not null
                then cast(coalesce(activity.resolution_breaches, 0) as bigint)
        end as resolution_breaches,
        case
            when spine.resolution_target_seconds is not null
                then cast(coalesce(activity.resolution_breaches_open, 0) as bigint)
        end as resolution_breaches_open,

        spine.period_start < {{ week_start('spine.as_of_ts') }} as is_complete_week,

        {{ mart_build_state_columns() }}

    from spine
    cross join build_state
    left join activity
        on spine.workflow_id = activity.workflow_id
        and spine.exception_class = activity.exception_class
        and spine.routed_owner = activity.routed_owner
        and spine.period_start = activity.period_start
    {{ mart_kept_key_join('spine', ['workflow_id', 'exception_class', 'routed_owner'], 'week_start') }}
    where {{ mart_kept_key_filter('spine.period_start') }}

)

select * from final
