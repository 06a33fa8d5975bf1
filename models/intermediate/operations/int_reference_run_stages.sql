{#- The reference the at-risk prediction learns from: one row per stage of every telemetry run that
    completed within the `prediction_reference_days` (default 28) days up to as_of - at most the
    `prediction_reference_runs` (default 2000) most recent of them per workflow - with the run's
    elapsed time when it entered the stage and when it left it (entered the next stage, or ended).
    Only events at or before the run's end (itself at or before as_of) are read. Rules: doc block run_prediction in
    models/marts/operations/_operations__docs.md. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

{%- set reference_days = var('prediction_reference_days', 28) | int %}
{#- a bound on the reference per workflow: the prediction's joins grow with in-flight runs x reference runs,
    which at 100M events spilled 48 GiB (docs/benchmarks.md "Scale"); a median and a share from the 2000
    most recent completed runs change little, and they follow drift sooner -#}
{%- set reference_runs_max = var('prediction_reference_runs', 2000) | int %}
{#- no event of a reference run is older than the least first_event_at of those runs: a literal that
    prunes the event scan to the reference window's days (macros/operations/event_scan_floor.sql) -#}
{%- set events_floor = run_events_scan_floor(
    'select runs.first_event_at from ' ~ ref('int_runs_summarized') ~ ' as runs cross join '
    ~ ref('int_as_of') ~ " as as_of where runs.log_format = 'telemetry' and runs.final_status = 'completed'"
    ~ ' and runs.has_run_started and runs.ended_at <= as_of.as_of_ts and runs.ended_at > '
    ~ timestamp_add_seconds('as_of.as_of_ts', 'cast(' ~ (-86400 * reference_days) ~ ' as double)'),
    requires=[ref('int_runs_summarized'), ref('int_as_of')]
) %}

with

as_of as (

    select
        as_of_ts,
        {{ timestamp_add_seconds('as_of_ts', 'cast(' ~ (-86400 * reference_days) ~ ' as double)') }}
            as reference_from_ts

    from {{ ref('int_as_of') }}

),

runs as (

    select * from {{ ref('int_runs_summarized') }}

),

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}

),

reference_runs as (

    select
        runs.workflow_id,
        runs.run_id,
        runs.started_at,
        runs.ended_at,
        as_of.as_of_ts

    from runs
    cross join as_of
    where runs.log_format = 'telemetry'
        and runs.final_status = 'completed'
        and runs.has_run_started
        and runs.ended_at <= as_of.as_of_ts
        and runs.ended_at > as_of.reference_from_ts
    -- the most recent completed runs of the workflow (ties on the end: the greater run_id)
    qualify row_number() over (
        partition by runs.workflow_id
        order by runs.ended_at desc, runs.run_id desc
    ) <= {{ reference_runs_max }}

),

stage_entries as (

    -- a stage is entered at its first lifecycle event (an approval gating it counts: the run waits there)
    select
        events.workflow_id,
        events.run_id,
        events.stage,
        min(events.event_ts) as entered_at

    from events
    inner join reference_runs
        on events.workflow_id = reference_runs.workflow_id
        and events.run_id = reference_runs.run_id
    -- events after the run's end (a log-completeness finding) belong to no stage of it
    where events.event_ts <= reference_runs.ended_at
        {%- if events_floor is not none %}
        and events.event_ts >= {{ events_floor }}
        {%- endif %}
        and events.stage is not null
        and events.event_type in (
            'stage_started', 'stage_completed', 'stage_retried', 'stage_timed_out',
            'approval_requested', 'approval_granted', 'approval_rejected'
        )
    group by events.workflow_id, events.run_id, events.stage

),

sequenced as (

    select
        stage_entries.workflow_id,
        stage_entries.run_id,
        stage_entries.stage,
        stage_entries.entered_at,
        coalesce(
            lead(stage_entries.entered_at) over (
                partition by stage_entries.workflow_id, stage_entries.run_id
                order by stage_entries.entered_at, stage_entries.stage
            ),
            reference_runs.ended_at
        ) as left_at,
        reference_runs.started_at,
        reference_runs.ended_at

    from stage_entries
    inner join reference_runs
        on stage_entries.workflow_id = reference_runs.workflow_id
        and stage_entries.run_id = reference_runs.run_id

),

final as (

    select
        workflow_id,
        run_id,
        stage,
        {{ seconds_between('started_at', 'entered_at') }} as entered_after_seconds,
        {{ seconds_between('started_at', 'left_at') }} as left_after_seconds,
        {{ seconds_between('started_at', 'ended_at') }} as cycle_time_seconds

    from sequenced

)

select * from final
