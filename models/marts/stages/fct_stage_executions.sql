{#- One row per run x stage x attempt (workflow_id, run_id, stage, attempt): when the attempt started
    and ended, how long it took and how it ended. Definitions: doc block stage_execution_rules in
    _stages__docs.md. Incremental by run (macros/incremental/mart_recompute.sql): the pre_hook
    deletes the runs landed since the last build, and this computes the runs the table is missing. -#}

with

attempts as (

    select summarized.*
    from {{ ref('int_stage_attempts_summarized') }} as summarized
    -- incremental: the runs the table is missing (the pre_hook deleted the recomputed ones)
    {{ mart_missing_keys_filter('summarized', ['workflow_id', 'run_id'], watermark_column='max_loaded_at',
        relation=ref('int_stage_attempts_summarized')) }}

),

runs as (

    select * from {{ ref('int_runs_summarized') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

sequenced as (

    select
        attempts.*,
        lead(attempts.attempt) over (
            partition by attempts.workflow_id, attempts.run_id, attempts.stage order by attempts.attempt
        ) as next_attempt,
        lead(attempts.started_at) over (
            partition by attempts.workflow_id, attempts.run_id, attempts.stage order by attempts.attempt
        ) as next_attempt_started_at

    from attempts

),

classified as (

    select
        sequenced.*,
        runs.ended_at as run_ended_at,
        case
            when sequenced.timed_out_at is not null
                and (sequenced.completed_at is null or sequenced.timed_out_at <= sequenced.completed_at)
                then 'timed_out'
            when sequenced.completed_at is not null then 'completed'
            when sequenced.next_attempt is not null then 'retried'
            when runs.ended_at is not null then 'failed'
            else 'in_flight'
        end as outcome

    from sequenced
    left join runs
        on sequenced.workflow_id = runs.workflow_id
        and sequenced.run_id = runs.run_id

),

ended as (

    select
        classified.*,
        -- a retried attempt that did not time out has no event of its own for its end: it ends when
        -- the next attempt starts (its backoff included); a failed one ends with its run
        case outcome
            when 'timed_out' then timed_out_at
            when 'completed' then completed_at
            when 'retried' then next_attempt_started_at
            when 'failed' then run_ended_at
        end as ended_at

    from classified

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'run_id', 'stage', 'attempt']) }} as stage_execution_key,
        workflow_id,
        run_id,
        stage,
        attempt,
        log_format,
        started_at,
        ended_at,
        {{ seconds_between('started_at', 'ended_at') }} as duration_seconds,
        outcome,
        next_attempt is null as is_last_attempt,
        start_event_count,
        end_event_count,

        {{ mart_build_state_columns() }}

    from ended
    cross join build_state

)

select * from final
