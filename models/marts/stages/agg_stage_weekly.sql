{#- One row per workflow x stage x ISO week (week_start = the Monday, UTC), from the stage's first to
    its last week with an ended stage run: stage runs, attempts, failure rate, the retry
    distribution, timeout rate, p50/p90 stage duration. Definitions: doc block stage_weekly_rules
    in _stages__docs.md. Incremental (macros/incremental/mart_recompute.sql): only the weeks after
    the last one the table keeps for a workflow x stage are computed, from the stage runs whose last
    attempt ended in a week after the table's last one (every other stage run counts in a kept week);
    a kept workflow x stage's spine resumes after its last kept week. -#}

with

{% if is_incremental() -%}
missing_from as (

    -- the first week the table is missing (the pre_hook deleted the recomputed weeks; null: empty)
    select {{ dbt.dateadd('day', 7, 'max(week_start)') }} as week_start
    from {{ this }}

),

reopened_stage_runs as (

    -- the run x stage whose last attempt ended in a missing week: the only stage runs the missing
    -- weeks count (a stage run's week is its last attempt's end), so the history is not regrouped
    select
        last_attempts.workflow_id,
        last_attempts.run_id,
        last_attempts.stage

    from {{ ref('fct_stage_executions') }} as last_attempts
    cross join missing_from
    where last_attempts.is_last_attempt
        and (missing_from.week_start is null or last_attempts.ended_at >= missing_from.week_start)
        {%- set missing_floor = mart_missing_periods_floor([ref('int_stage_attempts_summarized'), ref('int_runs_summarized')], 'week_start', 'week') %}
        {%- if missing_floor is not none %}
        -- the same bound as a literal (read before the pre_hook): the scan skips the kept weeks' row groups
        and last_attempts.ended_at >= {{ missing_floor }}
        {%- endif %}

),

executions as (

    select all_executions.*

    from {{ ref('fct_stage_executions') }} as all_executions
    inner join reopened_stage_runs
        on all_executions.workflow_id = reopened_stage_runs.workflow_id
        and all_executions.run_id = reopened_stage_runs.run_id
        and all_executions.stage = reopened_stage_runs.stage

),
{%- else -%}
executions as (

    select * from {{ ref('fct_stage_executions') }}

),
{%- endif %}

stage_runs as (

    -- one row per run x stage: its attempts and how its last attempt ended
    select
        workflow_id,
        run_id,
        stage,
        max(attempt) as attempts,
        count(*) as executions,
        sum(case when outcome = 'timed_out' then 1 else 0 end) as executions_timed_out,
        min(started_at) as stage_started_at,
        max(case when is_last_attempt then ended_at end) as stage_ended_at,
        max(case when is_last_attempt then outcome end) as final_outcome

    from executions
    group by workflow_id, run_id, stage

),

ended_stage_runs as (

    select
        stage_runs.*,
        {{ week_start('stage_ended_at') }} as period_start,
        {{ seconds_between('stage_started_at', 'stage_ended_at') }} as stage_duration_seconds

    from stage_runs
    where stage_ended_at is not null

),

activity as (

    select
        workflow_id,
        stage,
        period_start,
        count(*) as stage_runs,
        sum(executions) as executions,
        sum(case when final_outcome in ('failed', 'timed_out') then 1 else 0 end) as stage_runs_failed,
        sum(case when attempts = 1 then 1 else 0 end) as stage_runs_1_attempt,
        sum(case when attempts = 2 then 1 else 0 end) as stage_runs_2_attempts,
        sum(case when attempts = 3 then 1 else 0 end) as stage_runs_3_attempts,
        sum(case when attempts >= 4 then 1 else 0 end) as stage_runs_4plus_attempts,
        sum(executions_timed_out) as executions_timed_out,
        {{ percentile_cont("case when final_outcome = 'completed' then stage_duration_seconds end", 0.5, fractions=[0.5, 0.9]) }}
            as stage_duration_p50_seconds,
        {{ percentile_cont("case when final_outcome = 'completed' then stage_duration_seconds end", 0.9, fractions=[0.5, 0.9]) }}
            as stage_duration_p90_seconds

    from ended_stage_runs
    -- incremental: only the weeks the table is missing (the pre_hook deleted the recomputed ones;
    -- as in macros/marts/aggregate_runs_by_period.sql, the spine's bounds still read every week)
    where {{ mart_missing_periods_filter('period_start', 'week_start') }}
    group by workflow_id, stage, period_start

),

activity_bounds as (

    select
        workflow_id,
        stage,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start

    from (
        select
            workflow_id,
            stage,
            period_start
        from ended_stage_runs
        {%- if is_incremental() %}
        union all
        -- incremental: a kept workflow x stage's spine resumes after its last kept week (the zero
        -- weeks between it and new activity); ended_stage_runs holds only the missing weeks
        select
            workflow_id,
            stage,
            max(week_start) as period_start
        from {{ this }}
        group by workflow_id, stage
        {%- endif %}
    ) as stage_weeks
    group by workflow_id, stage

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
        spine.stage,
        spine.period_start as week_start,

        cast(coalesce(activity.stage_runs, 0) as bigint) as stage_runs,
        cast(coalesce(activity.executions, 0) as bigint) as executions,
        cast(coalesce(activity.stage_runs_failed, 0) as bigint) as stage_runs_failed,
        case
            when coalesce(activity.stage_runs, 0) = 0 then null
            else cast(activity.stage_runs_failed as double) / activity.stage_runs
        end as failure_rate,
        cast(coalesce(activity.stage_runs_1_attempt, 0) as bigint) as stage_runs_1_attempt,
        cast(coalesce(activity.stage_runs_2_attempts, 0) as bigint) as stage_runs_2_attempts,
        cast(coalesce(activity.stage_runs_3_attempts, 0) as bigint) as stage_runs_3_attempts,
        cast(coalesce(activity.stage_runs_4plus_attempts, 0) as bigint) as stage_runs_4plus_attempts,
        cast(coalesce(activity.executions_timed_out, 0) as bigint) as executions_timed_out,
        case
            when coalesce(activity.executions, 0) = 0 then null
            else cast(activity.executions_timed_out as double) / activity.executions
        end as timeout_rate,
        -- rounded to the microsecond, as the cycle-time percentiles (hides interpolation noise)
        cast(round(activity.stage_duration_p50_seconds, 6) as double) as stage_duration_p50_seconds,
        cast(round(activity.stage_duration_p90_seconds, 6) as double) as stage_duration_p90_seconds,

        {{ mart_build_state_columns() }}

    from spine
    cross join build_state
    left join activity
        on spine.workflow_id = activity.workflow_id
        and spine.stage = activity.stage
        and spine.period_start = activity.period_start
    {{ mart_kept_key_join('spine', ['workflow_id', 'stage'], 'week_start') }}
    where {{ mart_kept_key_filter('spine.period_start') }}

)

select * from final
