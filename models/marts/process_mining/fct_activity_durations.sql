{#- One row per activity START event (lifecycle 'start') of a case, paired with the next event of
    the same activity in the case when that event is its COMPLETE: the activity instance's start,
    end and duration. A start followed by another start of the same activity, or by nothing, stays
    unpaired (completed_at and duration null, pairing 'unpaired_start'). Definitions:
    _process_mining__docs.md (pm_activity_duration). Incremental by case like fct_case_variants. -#}

with

events as (

    select sequenced.*
    from {{ ref('int_case_events_sequenced') }} as sequenced
    -- incremental: the cases the table is missing (the pre_hook deleted the recomputed ones)
    {{ mart_missing_keys_filter('sequenced', ['workflow_id', 'case_id']) }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

lifecycle_events as (

    -- the start and complete transitions, each followed by the next of the same activity in the case
    select
        workflow_id,
        run_id,
        event_id,
        activity,
        lifecycle,
        event_ts,
        event_seq,
        lead(lifecycle) over (partition by workflow_id, run_id, activity order by event_seq) as next_lifecycle,
        lead(event_ts) over (partition by workflow_id, run_id, activity order by event_seq) as next_event_ts,
        lead(event_id) over (partition by workflow_id, run_id, activity order by event_seq) as next_event_id

    from events
    where lifecycle in ('start', 'complete')

),

paired as (

    select
        workflow_id,
        run_id,
        event_id as start_event_id,
        activity,
        event_ts as started_at,
        event_seq as start_event_seq,
        case when next_lifecycle = 'complete' then next_event_id end as complete_event_id,
        case when next_lifecycle = 'complete' then next_event_ts end as completed_at

    from lifecycle_events
    where lifecycle = 'start'

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'run_id', 'start_event_id']) }} as activity_instance_key,
        workflow_id,
        run_id as case_id,
        activity,
        start_event_id,
        complete_event_id,
        started_at,
        completed_at,
        {{ week_start('started_at') }} as week_start,
        {{ seconds_between('started_at', 'completed_at') }} as duration_seconds,
        case when complete_event_id is null then 'unpaired_start' else 'paired' end as pairing,
        start_event_seq,

        {{ mart_build_state_columns() }}

    from paired
    cross join build_state

)

select * from final
