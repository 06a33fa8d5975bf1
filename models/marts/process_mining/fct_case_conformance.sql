{#- One row per case of a workflow with a reference path (command_center.yml
    process_mining.reference_paths): its deviations from the path, counted by kind and listed in
    `deviations`, and whether it conforms (no deviation). Definitions: _process_mining__docs.md
    (pm_conformance). Incremental by case (macros/incremental/mart_recompute.sql); a register change
    recomputes every case. -#}

with

events as (

    select sequenced.*
    from {{ ref('int_case_events_sequenced') }} as sequenced
    -- incremental: the cases the table is missing (the pre_hook deleted the recomputed ones)
    where {{ pm_missing_cases_filter('sequenced') }}

),

paths as (

    select * from {{ ref('stg_governance__reference_paths') }}

),

rules as (

    select * from {{ ref('stg_governance__reference_path_rules') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

instances as (

    select
        events.workflow_id,
        events.run_id,
        events.activity,
        events.activity_seq,
        events.previous_activity,
        events.is_last_activity,
        paths.checks_start,
        paths.checks_end,
        paths.checks_transitions

    from events
    inner join paths
        on events.workflow_id = paths.workflow_id
    where events.is_activity_instance

),

cases as (

    select
        events.workflow_id,
        events.run_id,
        min(events.first_event_at) as first_event_at

    from events
    inner join paths
        on events.workflow_id = paths.workflow_id
    group by events.workflow_id, events.run_id

),

required as (

    select * from rules
    where rule = 'required_stage'

),

required_first_seen as (

    -- each required stage x case of its workflow: the first activity_seq of that stage (null: missing)
    select
        cases.workflow_id,
        cases.run_id,
        required.activity,
        required.position,
        min(instances.activity_seq) as first_seq

    from cases
    inner join required
        on cases.workflow_id = required.workflow_id
    left join instances
        on cases.workflow_id = instances.workflow_id
        and cases.run_id = instances.run_id
        and required.activity = instances.activity
    group by cases.workflow_id, cases.run_id, required.activity, required.position

),

required_ordered as (

    -- the present required stages in the required order, each with the latest first-seen position
    -- of the present stages required before it
    select
        required_first_seen.*,
        max(first_seq) over (
            partition by workflow_id, run_id
            order by position
            rows between unbounded preceding and 1 preceding
        ) as latest_earlier_first_seq

    from required_first_seen
    where first_seq is not null

),

deviations as (

    select
        instances.workflow_id,
        instances.run_id,
        'wrong_start' as deviation_type,
        'wrong_start: ' || instances.activity as deviation

    from instances
    left join rules
        on instances.workflow_id = rules.workflow_id
        and rules.rule = 'start'
        and instances.activity = rules.activity
    where instances.activity_seq = 1
        and instances.checks_start
        and rules.workflow_id is null

    union all

    select
        instances.workflow_id,
        instances.run_id,
        'wrong_end' as deviation_type,
        'wrong_end: ' || instances.activity as deviation

    from instances
    left join rules
        on instances.workflow_id = rules.workflow_id
        and rules.rule = 'end'
        and instances.activity = rules.activity
    where instances.is_last_activity
        and instances.checks_end
        and rules.workflow_id is null

    union all

    select
        instances.workflow_id,
        instances.run_id,
        'unexpected_transition' as deviation_type,
        'unexpected_transition: ' || instances.previous_activity || ' -> ' || instances.activity as deviation

    from instances
    left join rules
        on instances.workflow_id = rules.workflow_id
        and rules.rule = 'transition'
        and instances.previous_activity = rules.activity
        and instances.activity = rules.next_activity
    where instances.activity_seq > 1
        and instances.checks_transitions
        and rules.workflow_id is null

    union all

    select
        workflow_id,
        run_id,
        'missing_required_stage' as deviation_type,
        'missing_required_stage: ' || activity as deviation

    from required_first_seen
    where first_seq is null

    union all

    select
        workflow_id,
        run_id,
        'required_stage_out_of_order' as deviation_type,
        'required_stage_out_of_order: ' || activity as deviation

    from required_ordered
    where first_seq < latest_earlier_first_seq

),

per_case as (

    select
        workflow_id,
        run_id,
        count(*) as deviation_count,
        sum(case when deviation_type = 'wrong_start' then 1 else 0 end) as wrong_start_count,
        sum(case when deviation_type = 'wrong_end' then 1 else 0 end) as wrong_end_count,
        sum(case when deviation_type = 'unexpected_transition' then 1 else 0 end) as unexpected_transition_count,
        sum(case when deviation_type = 'missing_required_stage' then 1 else 0 end) as missing_required_stage_count,
        sum(case when deviation_type = 'required_stage_out_of_order' then 1 else 0 end) as out_of_order_stage_count,
        {{ string_agg_distinct('deviation', '; ') }} as deviations

    from deviations
    group by workflow_id, run_id

),

final as (

    select
        {{ surrogate_key(['cases.workflow_id', 'cases.run_id']) }} as case_key,
        cases.workflow_id,
        cases.run_id as case_id,
        cases.first_event_at,
        {{ week_start('cases.first_event_at') }} as case_week_start,
        per_case.workflow_id is null as is_conforming,
        cast(coalesce(per_case.deviation_count, 0) as bigint) as deviation_count,
        coalesce(per_case.wrong_start_count, 0) > 0 as has_wrong_start,
        coalesce(per_case.wrong_end_count, 0) > 0 as has_wrong_end,
        cast(coalesce(per_case.unexpected_transition_count, 0) as bigint) as unexpected_transition_count,
        cast(coalesce(per_case.missing_required_stage_count, 0) as bigint) as missing_required_stage_count,
        cast(coalesce(per_case.out_of_order_stage_count, 0) as bigint) as out_of_order_stage_count,
        per_case.deviations,

        {{ mart_build_state_columns() }}

    from cases
    left join per_case
        on cases.workflow_id = per_case.workflow_id
        and cases.run_id = per_case.run_id
    cross join build_state

)

select * from final
