{#- One row per telemetry run in flight as of as_of (started at or before it, not ended at it): its
    state, read from its latest lifecycle event at or before as_of, and its current stage. Only
    events at or before as_of are read, so a pinned as_of (the backtest's cut-off) sees nothing
    later. Rules: doc blocks run_state and waits_on in models/marts/operations/_operations__docs.md.

    A table rebuilt every build (dbt_project.yml): the in-flight runs are a few hundred, and as_of
    moves with every build, so they are recomputed whole; the event scan reads only the in-flight
    runs' days (a literal floor, run_events_scan_floor) and the semi-join on those runs. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

{#- no event of an in-flight run is older than the least first_event_at of those runs: a literal that
    prunes the event scan to the in-flight runs' days (macros/operations/event_scan_floor.sql) -#}
{%- set events_floor = run_events_scan_floor(
    'select runs.first_event_at from ' ~ ref('int_runs_summarized') ~ ' as runs cross join '
    ~ ref('int_as_of') ~ " as as_of where runs.log_format = 'telemetry' and runs.started_at <= as_of.as_of_ts"
    ~ ' and (runs.ended_at is null or runs.ended_at > as_of.as_of_ts)',
    requires=[ref('int_runs_summarized'), ref('int_as_of')]
) %}

with

as_of as (

    select as_of_ts from {{ ref('int_as_of') }}

),

runs as (

    select * from {{ ref('int_runs_summarized') }}

),

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}

),

in_flight_runs as (

    select
        runs.workflow_id,
        runs.run_id,
        runs.started_at,
        as_of.as_of_ts

    from runs
    cross join as_of
    where runs.log_format = 'telemetry'
        and runs.started_at <= as_of.as_of_ts
        and (runs.ended_at is null or runs.ended_at > as_of.as_of_ts)

),

lifecycle_events as (

    -- exception events do not change a run's state: an exception is worked beside the run
    select
        events.workflow_id,
        events.run_id,
        events.event_id,
        events.event_type,
        events.event_ts,
        events.stage

    from events
    inner join in_flight_runs
        on events.workflow_id = in_flight_runs.workflow_id
        and events.run_id = in_flight_runs.run_id
    where events.event_ts <= in_flight_runs.as_of_ts
        {%- if events_floor is not none %}
        and events.event_ts >= {{ events_floor }}
        {%- endif %}
        and events.event_type in (
            'run_started', 'stage_started', 'stage_completed', 'stage_retried', 'stage_timed_out',
            'approval_requested', 'approval_granted', 'approval_rejected'
        )

),

ranked as (

    select
        lifecycle_events.*,
        row_number() over (
            partition by workflow_id, run_id
            order by event_ts desc, event_id desc
        ) as recency_rank,
        -- the latest event naming a stage ranks 1 among them; rows without a stage rank after
        row_number() over (
            partition by workflow_id, run_id
            order by case when stage is null then 1 else 0 end, event_ts desc, event_id desc
        ) as stage_recency_rank

    from lifecycle_events

),

last_event as (

    select
        workflow_id,
        run_id,
        event_type as last_event_type,
        event_ts as state_entered_at

    from ranked
    where recency_rank = 1

),

last_stage as (

    select
        workflow_id,
        run_id,
        stage as current_stage

    from ranked
    where stage_recency_rank = 1

),

final as (

    select
        in_flight_runs.workflow_id,
        in_flight_runs.run_id,
        in_flight_runs.started_at,
        last_stage.current_stage,
        coalesce(last_event.last_event_type, 'run_started') as last_event_type,
        -- a run whose only events are exception events (or none before as_of) is in its start state;
        -- never before the run started (an event stamped before run_started: skewed clocks)
        case
            when last_event.state_entered_at > in_flight_runs.started_at then last_event.state_entered_at
            else in_flight_runs.started_at
        end as state_entered_at,
        case coalesce(last_event.last_event_type, 'run_started')
            when 'approval_requested' then 'human_approval'
            when 'stage_retried' then 'scheduled_retry'
            when 'stage_timed_out' then 'scheduled_retry'
            when 'stage_started' then 'dependency'
            else 'next_stage'
        end as waits_on,
        in_flight_runs.as_of_ts

    from in_flight_runs
    left join last_event
        on in_flight_runs.workflow_id = last_event.workflow_id
        and in_flight_runs.run_id = last_event.run_id
    left join last_stage
        on in_flight_runs.workflow_id = last_stage.workflow_id
        and in_flight_runs.run_id = last_stage.run_id

)

select * from final
