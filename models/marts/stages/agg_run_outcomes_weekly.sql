{#- One row per workflow x ISO week (week_start = the Monday, UTC), from the workflow's first to its
    last week with an ended run or a resolved exception: how the runs that ended that week went
    (compensation rate, rollback success, partial failures, manual intervention rate) and the
    outcome metrics of seed 001 step 5 (lead time p50/p90, change failure rate, time to restore
    p50/p90). Definitions: doc block run_outcome_rules in _stages__docs.md. Incremental
    (macros/incremental/mart_recompute.sql): only the weeks after the last one the table keeps for
    a workflow are computed. -#}

with

runs as (

    select * from {{ ref('fct_workflow_runs') }}

),

run_outcomes as (

    select * from {{ ref('int_run_outcomes_summarized') }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

ended_runs as (

    select
        runs.workflow_id,
        {{ week_start('runs.ended_at') }} as period_start,
        runs.final_status,
        runs.cycle_time_seconds,
        run_outcomes.failed_at is not null as has_failure_event,
        run_outcomes.first_compensated_at is not null as is_compensated,
        run_outcomes.compensated_after_failure_at is not null as is_rolled_back,
        run_outcomes.failed_at is not null and run_outcomes.stages_completed > 0 as is_partial_failure,
        coalesce(run_outcomes.human_event_count, 0) > 0 as is_human_touched,
        runs.final_status in ('failed', 'compensated') as is_failed,
        coalesce(run_outcomes.stage_completions, 0) > coalesce(run_outcomes.stages_completed, 0) as is_reworked,
        runs.final_status = 'completed' and runs.retry_count > 0 as is_retried_to_succeed,
        runs.exception_count > 0 as is_escalated

    from runs
    left join run_outcomes
        on runs.workflow_id = run_outcomes.workflow_id
        and runs.run_id = run_outcomes.run_id
    where runs.ended_at is not null

),

run_activity as (

    select
        workflow_id,
        period_start,
        count(*) as runs_ended,
        sum(case when final_status = 'completed' then 1 else 0 end) as runs_completed,
        sum(case when is_compensated then 1 else 0 end) as runs_compensated,
        sum(case when has_failure_event then 1 else 0 end) as runs_with_failure_event,
        sum(case when is_rolled_back then 1 else 0 end) as runs_rolled_back,
        sum(case when is_partial_failure then 1 else 0 end) as runs_partially_failed,
        sum(case when is_human_touched then 1 else 0 end) as runs_human_touched,
        sum(case when is_failed then 1 else 0 end) as runs_failed,
        sum(case when is_reworked then 1 else 0 end) as runs_reworked,
        sum(case when is_retried_to_succeed then 1 else 0 end) as runs_retried_to_succeed,
        sum(case when is_escalated then 1 else 0 end) as runs_escalated,
        sum(
            case when is_failed or is_reworked or is_retried_to_succeed or is_escalated then 1 else 0 end
        ) as runs_change_failed,
        {{ percentile_cont("case when final_status = 'completed' then cycle_time_seconds end", 0.5, fractions=[0.5, 0.9]) }}
            as lead_time_p50_seconds,
        {{ percentile_cont("case when final_status = 'completed' then cycle_time_seconds end", 0.9, fractions=[0.5, 0.9]) }}
            as lead_time_p90_seconds

    from ended_runs
    -- incremental: only the weeks the table is missing (the spine's bounds still read every week)
    where {{ mart_missing_periods_filter('period_start', 'week_start') }}
    group by workflow_id, period_start

),

restores as (

    select
        workflow_id,
        {{ week_start('resolved_at') }} as period_start,
        time_to_resolution_seconds

    from exceptions
    where resolved_at is not null

),

restore_activity as (

    select
        workflow_id,
        period_start,
        count(*) as exceptions_resolved,
        {{ percentile_cont('time_to_resolution_seconds', 0.5, fractions=[0.5, 0.9]) }} as time_to_restore_p50_seconds,
        {{ percentile_cont('time_to_resolution_seconds', 0.9, fractions=[0.5, 0.9]) }} as time_to_restore_p90_seconds

    from restores
    where {{ mart_missing_periods_filter('period_start', 'week_start') }}
    group by workflow_id, period_start

),

activity_weeks as (

    -- the spine's bounds from the runs alone: ended_runs' join to the run outcomes adds no week
    -- (one outcome row per run at most) and would be computed over every run of the history
    select
        workflow_id,
        {{ week_start('ended_at') }} as period_start
    from runs
    where ended_at is not null
    union all
    select workflow_id, period_start from restores

),

activity_bounds as (

    select
        workflow_id,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start

    from activity_weeks
    group by workflow_id

),

spine as (

    {{ period_spine('activity_bounds', 'first_period_start', 'last_period_start', 'week', 'period_start') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

joined as (

    select
        spine.workflow_id,
        spine.period_start as week_start,
        coalesce(run_activity.runs_ended, 0) as runs_ended,
        coalesce(run_activity.runs_completed, 0) as runs_completed,
        coalesce(run_activity.runs_compensated, 0) as runs_compensated,
        coalesce(run_activity.runs_with_failure_event, 0) as runs_with_failure_event,
        coalesce(run_activity.runs_rolled_back, 0) as runs_rolled_back,
        coalesce(run_activity.runs_partially_failed, 0) as runs_partially_failed,
        coalesce(run_activity.runs_human_touched, 0) as runs_human_touched,
        coalesce(run_activity.runs_failed, 0) as runs_failed,
        coalesce(run_activity.runs_reworked, 0) as runs_reworked,
        coalesce(run_activity.runs_retried_to_succeed, 0) as runs_retried_to_succeed,
        coalesce(run_activity.runs_escalated, 0) as runs_escalated,
        coalesce(run_activity.runs_change_failed, 0) as runs_change_failed,
        run_activity.lead_time_p50_seconds,
        run_activity.lead_time_p90_seconds,
        coalesce(restore_activity.exceptions_resolved, 0) as exceptions_resolved,
        restore_activity.time_to_restore_p50_seconds,
        restore_activity.time_to_restore_p90_seconds

    from spine
    left join run_activity
        on spine.workflow_id = run_activity.workflow_id
        and spine.period_start = run_activity.period_start
    left join restore_activity
        on spine.workflow_id = restore_activity.workflow_id
        and spine.period_start = restore_activity.period_start
    {{ mart_kept_key_join('spine', ['workflow_id'], 'week_start') }}
    where {{ mart_kept_key_filter('spine.period_start') }}

),

final as (

    select
        workflow_id,
        week_start,

        cast(runs_ended as bigint) as runs_ended,
        cast(runs_completed as bigint) as runs_completed,
        cast(runs_compensated as bigint) as runs_compensated,
        case when runs_ended = 0 then null else cast(runs_compensated as double) / runs_ended end
            as compensation_rate,
        cast(runs_with_failure_event as bigint) as runs_with_failure_event,
        cast(runs_rolled_back as bigint) as runs_rolled_back,
        case
            when runs_with_failure_event = 0 then null
            else cast(runs_rolled_back as double) / runs_with_failure_event
        end as rollback_success_rate,
        cast(runs_partially_failed as bigint) as runs_partially_failed,
        cast(runs_human_touched as bigint) as runs_human_touched,
        case when runs_ended = 0 then null else cast(runs_human_touched as double) / runs_ended end
            as manual_intervention_rate,

        cast(round(lead_time_p50_seconds, 6) as double) as lead_time_p50_seconds,
        cast(round(lead_time_p90_seconds, 6) as double) as lead_time_p90_seconds,
        cast(runs_failed as bigint) as runs_failed,
        cast(runs_reworked as bigint) as runs_reworked,
        cast(runs_retried_to_succeed as bigint) as runs_retried_to_succeed,
        cast(runs_escalated as bigint) as runs_escalated,
        cast(runs_change_failed as bigint) as runs_change_failed,
        case when runs_ended = 0 then null else cast(runs_change_failed as double) / runs_ended end
            as change_failure_rate,
        cast(exceptions_resolved as bigint) as exceptions_resolved,
        cast(round(time_to_restore_p50_seconds, 6) as double) as time_to_restore_p50_seconds,
        cast(round(time_to_restore_p90_seconds, 6) as double) as time_to_restore_p90_seconds,

        {{ mart_build_state_columns() }}

    from joined
    cross join build_state

)

select * from final
