{#- One row per workflow x ISO week (week_start = the Monday, UTC), from the workflow's first to its
    last week with a settled approval request: requests settled, granted, rejected, timed out, the
    reject and timeout rates and the approval wait p50/p90. Definitions: doc block
    approval_weekly_rules in _stages__docs.md. Incremental (macros/incremental/mart_recompute.sql):
    only the weeks after the last one the table keeps for a workflow are computed. -#}

with

approvals as (

    select
        workflow_id,
        outcome,
        wait_seconds,
        {{ week_start('settled_at') }} as period_start

    from {{ ref('fct_approvals') }}
    where settled_at is not null

),

activity as (

    select
        workflow_id,
        period_start,
        count(*) as requests_settled,
        sum(case when outcome = 'granted' then 1 else 0 end) as requests_granted,
        sum(case when outcome = 'rejected' then 1 else 0 end) as requests_rejected,
        sum(case when outcome = 'timed_out' then 1 else 0 end) as requests_timed_out,
        {{ percentile_cont('wait_seconds', 0.5, fractions=[0.5, 0.9]) }} as approval_wait_p50_seconds,
        {{ percentile_cont('wait_seconds', 0.9, fractions=[0.5, 0.9]) }} as approval_wait_p90_seconds

    from approvals
    -- incremental: only the weeks the table is missing (the spine's bounds still read every week)
    where {{ mart_missing_periods_filter('period_start', 'week_start') }}
    group by workflow_id, period_start

),

activity_bounds as (

    select
        workflow_id,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start

    from approvals
    group by workflow_id

),

spine as (

    {{ period_spine('activity_bounds', 'first_period_start', 'last_period_start', 'week', 'period_start') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

final as (

    select
        spine.workflow_id,
        spine.period_start as week_start,

        cast(coalesce(activity.requests_settled, 0) as bigint) as requests_settled,
        cast(coalesce(activity.requests_granted, 0) as bigint) as requests_granted,
        cast(coalesce(activity.requests_rejected, 0) as bigint) as requests_rejected,
        cast(coalesce(activity.requests_timed_out, 0) as bigint) as requests_timed_out,
        case
            when coalesce(activity.requests_settled, 0) = 0 then null
            else cast(activity.requests_rejected as double) / activity.requests_settled
        end as reject_rate,
        case
            when coalesce(activity.requests_settled, 0) = 0 then null
            else cast(activity.requests_timed_out as double) / activity.requests_settled
        end as timeout_rate,
        cast(round(activity.approval_wait_p50_seconds, 6) as double) as approval_wait_p50_seconds,
        cast(round(activity.approval_wait_p90_seconds, 6) as double) as approval_wait_p90_seconds,

        {{ mart_build_state_columns() }}

    from spine
    cross join build_state
    left join activity
        on spine.workflow_id = activity.workflow_id
        and spine.period_start = activity.period_start
    {{ mart_kept_key_join('spine', ['workflow_id'], 'week_start') }}
    where {{ mart_kept_key_filter('spine.period_start') }}

)

select * from final
