{#- At-risk prediction: one row per run in flight as of as_of, with its predicted remaining time and
    the probability that it breaches its cycle-time SLO, learned from the completed runs of the same
    workflow (int_reference_run_stages): the empirical distribution of the time those runs still
    took from the same stage and elapsed time; and the naive baseline beside it (median cycle time
    minus elapsed). Definitions: doc blocks run_prediction and prediction_baseline in
    _operations__docs.md. Rebuilt whole on every build (table), like agg_runs_in_flight. -#}

{%- set min_reference_runs = var('prediction_min_reference_runs', 5) | int %}

with

in_flight as (

    select * from {{ ref('agg_runs_in_flight') }}

),

reference_stages as (

    select * from {{ ref('int_reference_run_stages') }}

),

reference_runs as (

    select distinct
        workflow_id,
        run_id,
        cycle_time_seconds

    from reference_stages

),

stage_matches as (

    -- reference runs that were in the same stage at the same elapsed time
    select
        in_flight.run_key,
        reference_stages.cycle_time_seconds - in_flight.elapsed_seconds as remaining_seconds,
        case when reference_stages.cycle_time_seconds > in_flight.cycle_time_slo_seconds then 1.0 else 0.0 end
            as breached

    from in_flight
    inner join reference_stages
        on in_flight.workflow_id = reference_stages.workflow_id
        and in_flight.current_stage = reference_stages.stage
        and reference_stages.entered_after_seconds <= in_flight.elapsed_seconds
        and reference_stages.left_after_seconds > in_flight.elapsed_seconds

),

stage_estimates as (

    select
        run_key,
        count(*) as reference_runs,
        {{ percentile_cont('remaining_seconds', 0.5) }} as remaining_seconds,
        avg(breached) as breach_probability

    from stage_matches
    group by run_key

),

elapsed_matches as (

    -- reference runs still running at the same elapsed time, whatever their stage; only for the runs
    -- the stage estimate does not serve (fewer than the minimum of stage matches): the others never
    -- read the elapsed estimate (chosen below), so it is not computed for them
    select
        in_flight.run_key,
        reference_runs.cycle_time_seconds - in_flight.elapsed_seconds as remaining_seconds,
        case when reference_runs.cycle_time_seconds > in_flight.cycle_time_slo_seconds then 1.0 else 0.0 end
            as breached

    from in_flight
    inner join reference_runs
        on in_flight.workflow_id = reference_runs.workflow_id
        and reference_runs.cycle_time_seconds > in_flight.elapsed_seconds
    left join stage_estimates
        on in_flight.run_key = stage_estimates.run_key
    where coalesce(stage_estimates.reference_runs, 0) < {{ min_reference_runs }}

),

elapsed_estimates as (

    select
        run_key,
        count(*) as reference_runs,
        {{ percentile_cont('remaining_seconds', 0.5) }} as remaining_seconds,
        avg(breached) as breach_probability

    from elapsed_matches
    group by run_key

),

workflow_medians as (

    select
        workflow_id,
        count(*) as reference_runs,
        {{ percentile_cont('cycle_time_seconds', 0.5) }} as median_cycle_time_seconds

    from reference_runs
    group by workflow_id

),

chosen as (

    select
        in_flight.*,
        case
            when stage_estimates.reference_runs >= {{ min_reference_runs }} then 'stage_and_elapsed'
            when elapsed_estimates.reference_runs >= {{ min_reference_runs }} then 'elapsed'
            else 'none'
        end as prediction_basis,
        case
            when stage_estimates.reference_runs >= {{ min_reference_runs }} then stage_estimates.reference_runs
            when elapsed_estimates.reference_runs >= {{ min_reference_runs }} then elapsed_estimates.reference_runs
            else 0
        end as reference_runs,
        case
            when stage_estimates.reference_runs >= {{ min_reference_runs }} then stage_estimates.remaining_seconds
            when elapsed_estimates.reference_runs >= {{ min_reference_runs }} then elapsed_estimates.remaining_seconds
        end as predicted_remaining_seconds,
        case
            when in_flight.cycle_time_slo_seconds is null then null
            when in_flight.elapsed_seconds > in_flight.cycle_time_slo_seconds then 1.0
            when stage_estimates.reference_runs >= {{ min_reference_runs }} then stage_estimates.breach_probability
            when elapsed_estimates.reference_runs >= {{ min_reference_runs }} then elapsed_estimates.breach_probability
        end as breach_probability,
        workflow_medians.median_cycle_time_seconds,
        case
            when workflow_medians.median_cycle_time_seconds is null then null
            when workflow_medians.median_cycle_time_seconds > in_flight.elapsed_seconds
                then workflow_medians.median_cycle_time_seconds - in_flight.elapsed_seconds
            else 0.0
        end as baseline_remaining_seconds

    from in_flight
    left join stage_estimates
        on in_flight.run_key = stage_estimates.run_key
    left join elapsed_estimates
        on in_flight.run_key = elapsed_estimates.run_key
    left join workflow_medians
        on in_flight.workflow_id = workflow_medians.workflow_id

),

final as (

    select
        run_key,
        workflow_id,
        run_id,
        owner,
        owner_team,
        started_at,
        current_stage,
        waits_on,
        elapsed_seconds,
        cycle_time_slo_seconds,
        prediction_basis,
        cast(reference_runs as bigint) as reference_runs,
        -- rounded to the microsecond: hides interpolation float noise
        cast(round(predicted_remaining_seconds, 6) as double) as predicted_remaining_seconds,
        {{ timestamp_add_seconds('as_of_ts', 'round(predicted_remaining_seconds, 6)') }} as predicted_end_at,
        cast(round(breach_probability, 6) as double) as breach_probability,
        coalesce(breach_probability >= 0.5, false) as is_at_risk,
        -- already breached: longer in flight than the SLO (at risk by definition)
        coalesce(elapsed_seconds > cycle_time_slo_seconds, false) as is_past_slo,
        cast(round(median_cycle_time_seconds, 6) as double) as baseline_median_cycle_time_seconds,
        cast(round(baseline_remaining_seconds, 6) as double) as baseline_remaining_seconds,
        case
            when cycle_time_slo_seconds is null or baseline_remaining_seconds is null then null
            else elapsed_seconds + baseline_remaining_seconds > cycle_time_slo_seconds
        end as baseline_is_at_risk,
        is_stuck,
        -- 1 = the most likely to breach (ties: the longest running, then workflow, run)
        cast(
            row_number() over (
                order by
                    case when breach_probability is null then 1 else 0 end,
                    breach_probability desc,
                    elapsed_seconds desc,
                    workflow_id asc,
                    run_id asc
            ) as integer
        ) as risk_rank,
        as_of_ts

    from chosen

)

select * from final
