{#- One row per activity START event (lifecycle 'start') of a case, paired with the next event of
    the same activity in the case when that event is its COMPLETE: the activity instance's start,
    end and duration. A start followed by another start of the same activity, or by nothing, stays
    unpaired (completed_at and duration null, pairing 'unpaired_start'). Definitions:
    _process_mining__docs.md (pm_activity_duration). Incremental by case like fct_case_variants. -#}

with

events as (

    -- the start and complete transitions (only the columns read: the CTE is read twice)
    select
        sequenced.workflow_id,
        sequenced.run_id,
        sequenced.event_id,
        sequenced.activity,
        sequenced.lifecycle,
        sequenced.event_ts,
        sequenced.event_seq

    from {{ ref('int_case_events_sequenced') }} as sequenced
    where sequenced.lifecycle in ('start', 'complete')
        -- incremental: the cases the table is missing (the pre_hook deleted the recomputed ones)
        and {{ pm_missing_cases_filter('sequenced') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

starts as (

    select
        workflow_id,
        run_id,
        event_id,
        activity,
        event_ts,
        event_seq

    from events
    where lifecycle = 'start'

),

next_events as (

    -- each start's next start or complete of the same activity in the case: the later events of the
    -- activity, the first of them by event_seq. A join on the case and activity (a case has few
    -- events of one activity) and a hash aggregate: cheaper than a window partitioned by the
    -- activity, which re-sorts every event of every case (the events are sorted by case order once,
    -- in int_case_events_sequenced)
    select
        starts.workflow_id,
        starts.run_id,
        starts.event_seq,
        min_by(later.lifecycle, later.event_seq) as next_lifecycle,
        min_by(later.event_ts, later.event_seq) as next_event_ts,
        min_by(later.event_id, later.event_seq) as next_event_id

    from starts
    inner join events as later
        on starts.workflow_id = later.workflow_id
        and starts.run_id = later.run_id
        and starts.activity = later.activity
        and later.event_seq > starts.event_seq
    group by starts.workflow_id, starts.run_id, starts.event_seq

),

paired as (

    select
        starts.workflow_id,
        starts.run_id,
        starts.event_id as start_event_id,
        starts.activity,
        starts.event_ts as started_at,
        starts.event_seq as start_event_seq,
        case when next_events.next_lifecycle = 'complete' then next_events.next_event_id end as complete_event_id,
        case when next_events.next_lifecycle = 'complete' then next_events.next_event_ts end as completed_at

    from starts
    left join next_events
        on starts.workflow_id = next_events.workflow_id
        and starts.run_id = next_events.run_id
        and starts.event_seq = next_events.event_seq

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
