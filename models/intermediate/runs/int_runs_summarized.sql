{#- One row per run (workflow_id, run_id): when it started and ended, how it ended, and what
    happened on the way. The rules: doc block run_rules in models/marts/runs/_runs__docs.md.

    Incremental (dbt_project.yml): a run recomputes the runs that newly landed events touch, from
    all of their events, and replaces them (macros/incremental/incremental_scope.sql). Retention:
    runs that lost all their events are deleted (pre_hook), runs that lost some are recomputed.
    Doc block incremental_rules in _runs__docs.md. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

with

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id']) }}

typed as (

    select
        workflow_id,
        run_id,
        event_id,
        event_type,
        event_ts,
        region,
        owner,
        exception_id,
        cost_cents,
        log_format,
        loaded_at,
        event_type in ('run_completed', 'run_failed', 'run_compensated') as is_terminal_event

    from scoped_events

),

flagged as (

    select
        typed.*,
        -- minimal logs carry no run lifecycle: every event lands as stage_completed
        (log_format = 'telemetry' and event_type = 'run_started') as is_run_start,
        (log_format = 'telemetry' and is_terminal_event) as is_run_end

    from typed

),

run_exceptions as (

    -- the distinct exceptions raised per run, aggregated apart: a count(distinct) inside the main
    -- aggregate makes DuckDB materialize every event row first (~0.5 s of 3 at 10M events)
    select
        workflow_id,
        run_id,
        count(distinct exception_id) as exception_count

    from scoped_events
    where event_type = 'exception_raised'
        and exception_id is not null
    group by workflow_id, run_id

),

summarized as (

    -- one hash aggregate per run: the anchor, owner and ending events are picked with
    -- first_value_by (the first row by the stated order), not with row_number windows
    select
        workflow_id,
        run_id,

        -- a run is 'minimal' only when every one of its events came from a minimal log
        case
            when max(case when log_format = 'telemetry' then 1 else 0 end) = 1 then 'telemetry'
            else 'minimal'
        end as log_format,

        -- the anchor event: the earliest run_started, else the earliest event of the run
        {{ first_value_by('event_ts', 'event_ts', 'event_id', priority='case when is_run_start then 0 else 1 end') }}
            as anchor_event_ts,
        {{ first_value_by('region', 'event_ts', 'event_id', priority='case when is_run_start then 0 else 1 end') }}
            as region,
        -- the owner event: the earliest run_started naming an owner, else the earliest event naming one
        {{ first_value_by('owner', 'event_ts', 'event_id', priority='case when is_run_start then 0 else 1 end') }}
            as event_owner,

        -- the ending event: the earliest terminal event (ties: the lowest event_id)
        min(case when is_run_end then event_ts end) as terminal_event_ts,
        {{ first_value_by('case when is_run_end then event_type end', 'event_ts', 'event_id') }}
            as terminal_event_type,

        max(case when is_run_start then 1 else 0 end) = 1 as has_run_started_event,
        max(case when is_run_end and event_type = 'run_compensated' then 1 else 0 end) = 1 as has_compensation,

        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at,

        count(*) as event_count,
        sum(case when event_type = 'stage_retried' then 1 else 0 end) as retry_count,
        sum(case when event_type = 'stage_timed_out' then 1 else 0 end) as timeout_count,
        sum(case when event_type = 'approval_requested' then 1 else 0 end) as approval_count,
        sum(case when is_terminal_event then 1 else 0 end) as terminal_event_count,
        sum(cost_cents) as compute_cost_cents,
        max(loaded_at) as max_loaded_at

    from flagged
    group by workflow_id, run_id

),

final as (

    select
        summarized.workflow_id,
        summarized.run_id,
        log_format,
        region,
        event_owner,

        anchor_event_ts as started_at,
        case
            when log_format = 'minimal' then last_event_at
            else terminal_event_ts
        end as ended_at,
        case
            when log_format = 'minimal' then 'completed'
            when terminal_event_type = 'run_completed' then 'completed'
            -- a failure that was later compensated (saga rollback) ends as compensated
            when terminal_event_type = 'run_failed' and has_compensation then 'compensated'
            when terminal_event_type = 'run_failed' then 'failed'
            when terminal_event_type = 'run_compensated' then 'compensated'
            else 'in_flight'
        end as final_status,
        case
            when log_format = 'minimal' then null
            else has_run_started_event
        end as has_run_started,

        first_event_at,
        last_event_at,

        cast(event_count as bigint) as event_count,
        cast(retry_count as bigint) as retry_count,
        cast(timeout_count as bigint) as timeout_count,
        cast(coalesce(run_exceptions.exception_count, 0) as bigint) as exception_count,
        cast(approval_count as bigint) as approval_count,
        cast(terminal_event_count as bigint) as terminal_event_count,
        cast(coalesce(compute_cost_cents, 0) as double) as compute_cost_cents,

        -- the latest load among the run's events: the table's high-water mark is its max
        max_loaded_at

    from summarized
    left join run_exceptions
        on summarized.workflow_id = run_exceptions.workflow_id
        and summarized.run_id = run_exceptions.run_id

)

select * from final
