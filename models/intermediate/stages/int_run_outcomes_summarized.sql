{#- One row per run (workflow_id, run_id): the events behind the run-outcome metrics - when it first
    failed and was first compensated, how many of its events a person emitted, how often its stages
    completed. The rules: doc block run_outcome_rules in models/marts/stages/_stages__docs.md.
    Incremental by run, like int_runs_summarized (a touched run is recomputed from all its events). -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

with

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id'], floor_source=ref('int_runs_summarized')) }}

summarized as (

    select
        workflow_id,
        run_id,
        min(case when event_type = 'run_failed' then event_ts end) as failed_at,
        min(case when event_type = 'run_compensated' then event_ts end) as first_compensated_at,
        sum(case when {{ is_human_actor('actor') }} then 1 else 0 end) as human_event_count,
        sum(case when event_type = 'stage_completed' and stage is not null then 1 else 0 end) as stage_completions,
        count(distinct case when event_type = 'stage_completed' then stage end) as stages_completed,
        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at,
        max(loaded_at) as max_loaded_at

    from scoped_events
    group by workflow_id, run_id

),

compensations as (

    -- the first compensation at or after the first failure (a saga rollback of that failure)
    select
        scoped_events.workflow_id,
        scoped_events.run_id,
        min(scoped_events.event_ts) as compensated_after_failure_at

    from scoped_events
    inner join summarized
        on scoped_events.workflow_id = summarized.workflow_id
        and scoped_events.run_id = summarized.run_id
    where scoped_events.event_type = 'run_compensated'
        and scoped_events.event_ts >= summarized.failed_at
    group by scoped_events.workflow_id, scoped_events.run_id

),

final as (

    select
        summarized.workflow_id,
        summarized.run_id,
        summarized.failed_at,
        summarized.first_compensated_at,
        compensations.compensated_after_failure_at,
        cast(summarized.human_event_count as bigint) as human_event_count,
        cast(summarized.stage_completions as bigint) as stage_completions,
        cast(summarized.stages_completed as bigint) as stages_completed,
        summarized.first_event_at,
        summarized.last_event_at,
        summarized.max_loaded_at

    from summarized
    left join compensations
        on summarized.workflow_id = compensations.workflow_id
        and summarized.run_id = compensations.run_id

)

select * from final
