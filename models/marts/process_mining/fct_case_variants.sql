{#- One row per case (workflow_id, case_id = run_id): its variant (the ordered sequence of its
    activity instances and a stable hash of it), duration, start / end activity, rework and outcome.
    Definitions: _process_mining__docs.md (pm_variant, pm_case_duration, pm_rework, pm_case_outcome).
    Incremental by case (macros/incremental/mart_recompute.sql): the pre_hook deletes the cases
    landed since the last build, and this computes the cases the table is missing. -#}

with

events as (

    select sequenced.*
    from {{ ref('int_case_events_sequenced') }} as sequenced
    -- incremental: the cases the table is missing (the pre_hook deleted the recomputed ones)
    where {{ pm_missing_cases_filter('sequenced') }}

),

runs as (

    select * from {{ ref('int_runs_summarized') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

instances as (

    select * from events
    where is_activity_instance

),

repeats as (

    -- the activities that occur more than once in the case
    select
        workflow_id,
        run_id,
        activity,
        count(*) as occurrences

    from instances
    group by workflow_id, run_id, activity
    having count(*) > 1

),

case_repeats as (

    select
        workflow_id,
        run_id,
        {{ string_agg_distinct('activity') }} as reworked_activities,
        sum(occurrences - 1) as repeated_instance_count

    from repeats
    group by workflow_id, run_id

),

sequences as (

    -- the instances' sequence, count and ends: an ordered aggregate over the instances only
    select
        workflow_id,
        run_id,
        {{ string_agg_ordered('activity', 'activity_seq', ' > ') }} as variant,
        count(*) as activity_count,
        min(case when activity_seq = 1 then activity end) as start_activity,
        min(case when is_last_activity then activity end) as end_activity

    from instances
    group by workflow_id, run_id

),

spans as (

    -- every event of the case (start transitions included): its span and size. A case with no
    -- activity instance has no row in sequences
    select
        workflow_id,
        run_id,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        count(*) as event_count,
        max(max_loaded_at) as max_loaded_at

    from events
    group by workflow_id, run_id

),

cases as (

    select
        spans.workflow_id,
        spans.run_id,
        sequences.variant,
        sequences.activity_count,
        sequences.start_activity,
        sequences.end_activity,
        spans.first_event_at,
        spans.last_event_at,
        spans.event_count,
        spans.max_loaded_at

    from spans
    left join sequences
        on spans.workflow_id = sequences.workflow_id
        and spans.run_id = sequences.run_id

),

joined as (

    select
        cases.workflow_id,
        cases.run_id,
        cases.variant,
        cases.activity_count,
        -- distinct activities = instances - the instances beyond the first of each activity
        cases.activity_count - coalesce(case_repeats.repeated_instance_count, 0) as distinct_activity_count,
        cases.start_activity,
        cases.end_activity,
        cases.first_event_at,
        cases.last_event_at,
        cases.event_count,
        case_repeats.reworked_activities,
        case_repeats.repeated_instance_count,
        runs.final_status,
        runs.exception_count

    from cases
    left join case_repeats
        on cases.workflow_id = case_repeats.workflow_id
        and cases.run_id = case_repeats.run_id
    left join runs
        on cases.workflow_id = runs.workflow_id
        and cases.run_id = runs.run_id

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'run_id']) }} as case_key,
        workflow_id,
        run_id as case_id,
        -- a case with no activity instance (only start transitions) has the empty variant ''
        coalesce(variant, '') as variant,
        {{ dbt.hash("coalesce(variant, '')") }} as variant_hash,
        cast(coalesce(activity_count, 0) as bigint) as activity_count,
        cast(coalesce(distinct_activity_count, 0) as bigint) as distinct_activity_count,
        start_activity,
        end_activity,
        first_event_at,
        last_event_at,
        {{ week_start('first_event_at') }} as case_week_start,
        {{ seconds_between('first_event_at', 'last_event_at') }} as case_duration_seconds,
        cast(event_count as bigint) as event_count,
        coalesce(repeated_instance_count, 0) > 0 as has_rework,
        reworked_activities,
        cast(coalesce(repeated_instance_count, 0) as bigint) as repeated_instance_count,
        coalesce(final_status, 'in_flight') as final_status,
        coalesce(final_status in ('failed', 'compensated'), false) as is_failed,
        coalesce(exception_count, 0) > 0 as had_exception,

        {{ mart_build_state_columns() }}

    from joined
    cross join build_state

)

select * from final
