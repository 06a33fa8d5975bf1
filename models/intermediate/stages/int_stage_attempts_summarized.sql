{#- One row per run x stage x attempt (workflow_id, run_id, stage, attempt): when the attempt
    started and how it ended, from the stage_* events. The rules: doc block stage_execution_rules
    in models/marts/stages/_stages__docs.md.

    Incremental by run, like int_runs_summarized (dbt_project.yml, macros/incremental/incremental_scope.sql):
    a build recomputes every run that newly landed events touch, from all of its events. The run's
    first_event_at, last_event_at and max_loaded_at (over all its events, not only the stage ones)
    drive the retention and high-water-mark rules. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

with

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id'], floor_source=ref('int_runs_summarized')) }}

run_bounds as (

    {{ run_event_bounds(ref('int_runs_summarized')) }}

),

telemetry_stage_events as (

    -- attempt numbers as the contract carries them: stage_started opens attempt 1, stage_retried
    -- opens attempt n (its attempt), stage_completed / stage_timed_out end attempt n. A missing or
    -- zero attempt is attempt 1 (stage_retried: 2, the first attempt a retry can open)
    select
        workflow_id,
        run_id,
        stage,
        event_id,
        event_type,
        event_ts,
        log_format,
        case
            when event_type = 'stage_retried' then greatest(coalesce(attempt, 2), 2)
            else greatest(coalesce(attempt, 1), 1)
        end as attempt

    from scoped_events
    where log_format = 'telemetry'
        and stage is not null
        and event_type in ('stage_started', 'stage_retried', 'stage_completed', 'stage_timed_out')

),

minimal_stage_events as (

    -- a minimal log lands every activity as stage_completed with no start: the n-th occurrence of
    -- an activity in a case is its attempt n (a repeated activity is rework)
    select
        workflow_id,
        run_id,
        stage,
        event_id,
        event_type,
        event_ts,
        log_format,
        row_number() over (partition by workflow_id, run_id, stage order by event_ts, event_id) as attempt

    from scoped_events
    where log_format = 'minimal'
        and stage is not null
        and event_type = 'stage_completed'

),

stage_events as (

    select * from telemetry_stage_events
    union all
    select * from minimal_stage_events

),

attempts as (

    select
        workflow_id,
        run_id,
        stage,
        attempt,
        case
            when max(case when log_format = 'telemetry' then 1 else 0 end) = 1 then 'telemetry'
            else 'minimal'
        end as log_format,
        -- the earliest event of each kind (duplicates: the earliest wins, the counts keep them)
        min(case when event_type in ('stage_started', 'stage_retried') then event_ts end) as started_at,
        min(case when event_type = 'stage_completed' then event_ts end) as completed_at,
        min(case when event_type = 'stage_timed_out' then event_ts end) as timed_out_at,
        sum(case when event_type in ('stage_started', 'stage_retried') then 1 else 0 end) as start_event_count,
        sum(case when event_type in ('stage_completed', 'stage_timed_out') then 1 else 0 end) as end_event_count

    from stage_events
    group by workflow_id, run_id, stage, attempt

),

final as (

    select
        attempts.workflow_id,
        attempts.run_id,
        attempts.stage,
        cast(attempts.attempt as integer) as attempt,
        attempts.log_format,
        attempts.started_at,
        attempts.completed_at,
        attempts.timed_out_at,
        cast(attempts.start_event_count as bigint) as start_event_count,
        cast(attempts.end_event_count as bigint) as end_event_count,
        run_bounds.first_event_at,
        run_bounds.last_event_at,
        run_bounds.max_loaded_at

    from attempts
    inner join run_bounds
        on attempts.workflow_id = run_bounds.workflow_id
        and attempts.run_id = run_bounds.run_id

)

select * from final
