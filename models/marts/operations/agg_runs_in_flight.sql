{#- What is happening now: one row per run in flight as of as_of, with its current stage, what it
    waits on, how long it has been in that state and since it started, and whether it is stuck
    (longer in that state than the register's threshold) with an age bucket, so "stuck runs by age"
    is one query. Definitions: doc blocks in _operations__docs.md (runs_in_flight, run_state,
    waits_on, stuck_run, in_state_age_bucket). Rebuilt whole on every build (table): see
    runs_in_flight. -#}

with

states as (

    select * from {{ ref('int_runs_in_flight_states') }}

),

runs as (

    -- the runs as they stood at as_of: owner, region and cycle-time SLO of the in-flight ones
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

thresholds as (

    select * from {{ ref('stg_governance__stuck_thresholds') }}

),

joined as (

    select
        runs.run_key,
        states.workflow_id,
        states.run_id,
        runs.is_registered_workflow,
        runs.owner,
        runs.owner_team,
        runs.region,
        states.started_at,
        states.current_stage,
        states.last_event_type,
        states.waits_on,
        states.state_entered_at,
        {{ seconds_between('states.state_entered_at', 'states.as_of_ts') }} as seconds_in_state,
        {{ seconds_between('states.started_at', 'states.as_of_ts') }} as elapsed_seconds,
        runs.cycle_time_slo_seconds,
        coalesce(stage_thresholds.threshold_seconds, workflow_thresholds.threshold_seconds) as stuck_threshold_seconds,
        case
            when stage_thresholds.threshold_seconds is not null then 'stage'
            when workflow_thresholds.is_default then 'default'
            when workflow_thresholds.threshold_seconds is not null then 'workflow'
            else 'none'
        end as stuck_threshold_source,
        states.as_of_ts

    from states
    inner join runs
        on states.workflow_id = runs.workflow_id
        and states.run_id = runs.run_id
    left join thresholds as stage_thresholds
        on states.workflow_id = stage_thresholds.workflow_id
        and states.current_stage = stage_thresholds.stage
    left join thresholds as workflow_thresholds
        on states.workflow_id = workflow_thresholds.workflow_id
        and workflow_thresholds.stage is null
    where runs.final_status = 'in_flight'

),

flagged as (

    select
        joined.*,
        coalesce(seconds_in_state > stuck_threshold_seconds, false) as is_stuck,
        -- exactly on a boundary stays in the lower bucket
        case
            when seconds_in_state <= 3600 then 'under_1h'
            when seconds_in_state <= 4 * 3600 then '1h_to_4h'
            when seconds_in_state <= 24 * 3600 then '4h_to_1d'
            when seconds_in_state <= 3 * 24 * 3600 then '1d_to_3d'
            else 'over_3d'
        end as in_state_age_bucket

    from joined

),

final as (

    select
        run_key,
        workflow_id,
        run_id,
        is_registered_workflow,
        owner,
        owner_team,
        region,
        started_at,
        current_stage,
        last_event_type,
        waits_on,
        state_entered_at,
        cast(seconds_in_state as double) as seconds_in_state,
        cast(elapsed_seconds as double) as elapsed_seconds,
        cast(cycle_time_slo_seconds as double) as cycle_time_slo_seconds,
        cast(stuck_threshold_seconds as double) as stuck_threshold_seconds,
        stuck_threshold_source,
        is_stuck,
        in_state_age_bucket,
        cast(
            case in_state_age_bucket
                when 'under_1h' then 1
                when '1h_to_4h' then 2
                when '4h_to_1d' then 3
                when '1d_to_3d' then 4
                else 5
            end as integer
        ) as in_state_age_bucket_order,
        -- 1 = the stuck run longest in its state (ties: workflow, run); null when not stuck
        cast(
            case when is_stuck then
                row_number() over (
                    partition by is_stuck
                    order by seconds_in_state desc, workflow_id asc, run_id asc
                )
            end as integer
        ) as stuck_rank,
        as_of_ts

    from flagged

)

select * from final
