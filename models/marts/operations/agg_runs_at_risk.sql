{#- At-risk prediction: one row per run in flight as of as_of, with its predicted remaining time and
    the probability that it breaches its cycle-time SLO, learned from the completed runs of the same
    workflow (int_reference_run_stages): the empirical distribution of the time those runs still
    took from the same stage and elapsed time; and the naive baseline beside it (median cycle time
    minus elapsed). Definitions: doc blocks run_prediction and prediction_baseline in
    _operations__docs.md. Rebuilt whole on every build (table), like agg_runs_in_flight.
    Bounded in the history: no join of the runs in flight with all their matching reference runs
    (in-flight x reference rows: at 100M events it spilled 48 GiB until the disk was full). The same
    exact answers from sorted lists: the elapsed estimate reads counts and the median's two ranks
    from each workflow's sorted cycle times; the stage estimate counts a run's matches per cycle-time
    bucket with running sums over the reference stages' entries and exits, then joins only the
    bucket(s) holding its median (macros/operations/median_by_rank.sql). -#}

{%- set min_reference_runs = var('prediction_min_reference_runs', 5) | int %}
{#- the stage estimate's cycle-time buckets: a run's matches are counted per bucket from sorted lists
    (no join), and only the one or two buckets holding its median are joined; any number gives the
    same exact answer, it only sets how the work splits between the two steps -#}
{%- set cycle_buckets = 256 %}

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

stage_queries as (

    select
        run_key,
        workflow_id,
        current_stage,
        elapsed_seconds,
        cycle_time_slo_seconds

    from in_flight
    where current_stage is not null

),

stage_references as (

    -- the reference stages of the stages runs are in, each in one of (up to) {{ cycle_buckets }} buckets
    -- of its workflow and stage by cycle-time rank: bucket b holds the cycle times between the
    -- (b / buckets) and ((b + 1) / buckets) quantiles, so the buckets sort the cycle times
    select
        workflow_id,
        stage,
        entered_after_seconds,
        left_after_seconds,
        cycle_time_seconds,
        cast(floor(
            (row_number() over (partition by workflow_id, stage order by cycle_time_seconds) - 1)
            * {{ cycle_buckets }} * 1.0 / count(*) over (partition by workflow_id, stage)
        ) as bigint) as cycle_bucket

    from reference_stages
    where exists (
        select 1 from stage_queries
        where stage_queries.workflow_id = reference_stages.workflow_id
            and stage_queries.current_stage = reference_stages.stage
    )

),

slo_groups as (

    -- the SLOs the runs in flight carry (one per workflow): breached is counted per SLO
    select distinct
        workflow_id,
        cycle_time_slo_seconds

    from stage_queries

),

stage_buckets as (

    select distinct
        workflow_id,
        stage,
        cycle_bucket

    from stage_references

),

stage_points as (

    -- per workflow, stage, bucket and SLO, one sorted list of the reference stages' entries (+1) and
    -- exits (-1) and the runs' elapsed times: the running sum at a run's elapsed time e counts the
    -- reference runs of the bucket that entered the stage at or before e and had not left it by e
    -- (at equal times entries and exits first: entered <= e < left)
    select
        stage_references.workflow_id,
        stage_references.stage,
        stage_references.cycle_bucket,
        slo_groups.cycle_time_slo_seconds,
        stage_references.entered_after_seconds as sort_point,
        0 as is_lookup,
        1 as runs_delta,
        case when stage_references.cycle_time_seconds > slo_groups.cycle_time_slo_seconds then 1 else 0 end
            as breached_delta,
        cast(null as varchar) as run_key,
        cast(null as double) as elapsed_seconds

    from stage_references
    inner join slo_groups
        on stage_references.workflow_id = slo_groups.workflow_id

    union all

    select
        stage_references.workflow_id,
        stage_references.stage,
        stage_references.cycle_bucket,
        slo_groups.cycle_time_slo_seconds,
        stage_references.left_after_seconds as sort_point,
        0 as is_lookup,
        -1 as runs_delta,
        case when stage_references.cycle_time_seconds > slo_groups.cycle_time_slo_seconds then -1 else 0 end
            as breached_delta,
        cast(null as varchar) as run_key,
        cast(null as double) as elapsed_seconds

    from stage_references
    inner join slo_groups
        on stage_references.workflow_id = slo_groups.workflow_id

    union all

    select
        stage_queries.workflow_id,
        stage_queries.current_stage,
        stage_buckets.cycle_bucket,
        stage_queries.cycle_time_slo_seconds,
        stage_queries.elapsed_seconds as sort_point,
        1 as is_lookup,
        0 as runs_delta,
        0 as breached_delta,
        stage_queries.run_key,
        stage_queries.elapsed_seconds

    from stage_queries
    inner join stage_buckets
        on stage_queries.workflow_id = stage_buckets.workflow_id
        and stage_queries.current_stage = stage_buckets.stage

),

stage_bucket_counts as (

    select
        workflow_id,
        stage,
        cycle_bucket,
        is_lookup,
        run_key,
        elapsed_seconds,
        sum(runs_delta) over (
            partition by workflow_id, stage, cycle_bucket, cycle_time_slo_seconds
            order by sort_point, is_lookup
            rows between unbounded preceding and current row
        ) as bucket_runs,
        sum(breached_delta) over (
            partition by workflow_id, stage, cycle_bucket, cycle_time_slo_seconds
            order by sort_point, is_lookup
            rows between unbounded preceding and current row
        ) as bucket_breached

    from stage_points

),

stage_bucket_ranges as (

    -- per run and bucket: the ranks (1-based, in the run's sorted matches) the bucket holds
    select
        run_key,
        workflow_id,
        stage,
        cycle_bucket,
        elapsed_seconds,
        bucket_runs,
        sum(bucket_runs) over (
            partition by run_key order by cycle_bucket rows between unbounded preceding and current row
        ) - bucket_runs as runs_before,
        sum(bucket_runs) over (partition by run_key) as reference_runs,
        sum(bucket_breached) over (partition by run_key) as breached_runs

    from stage_bucket_counts
    where is_lookup = 1

),

stage_median_buckets as (

    -- the bucket(s) holding the median's two ranks
    select
        run_key,
        workflow_id,
        stage,
        cycle_bucket,
        elapsed_seconds,
        runs_before,
        reference_runs,
        breached_runs

    from stage_bucket_ranges
    where bucket_runs > 0
        and (
            {{ median_low_rank('reference_runs') }} between runs_before + 1 and runs_before + bucket_runs
            or {{ median_high_rank('reference_runs') }} between runs_before + 1 and runs_before + bucket_runs
        )

),

stage_median_members as (

    -- the matches in those buckets only (about 1 / buckets of them), ranked within the run
    select
        stage_median_buckets.run_key,
        stage_median_buckets.elapsed_seconds,
        stage_median_buckets.reference_runs,
        stage_median_buckets.breached_runs,
        stage_references.cycle_time_seconds,
        stage_median_buckets.runs_before + row_number() over (
            partition by stage_median_buckets.run_key, stage_median_buckets.cycle_bucket
            order by stage_references.cycle_time_seconds
        ) as cycle_rank

    from stage_median_buckets
    inner join stage_references
        on stage_median_buckets.workflow_id = stage_references.workflow_id
        and stage_median_buckets.stage = stage_references.stage
        and stage_median_buckets.cycle_bucket = stage_references.cycle_bucket
        and stage_references.entered_after_seconds <= stage_median_buckets.elapsed_seconds
        and stage_references.left_after_seconds > stage_median_buckets.elapsed_seconds

),

stage_estimates as (

    -- the reference runs that were in the same stage at the same elapsed time: how many, the share
    -- breaching, and the continuous median of cycle_time - elapsed
    select
        run_key,
        max(reference_runs) as reference_runs,
        max(breached_runs) * 1.0 / max(reference_runs) as breach_probability,
        {{ median_from_ranks('cycle_time_seconds - elapsed_seconds', 'cycle_rank', 'reference_runs') }}
            as remaining_seconds

    from stage_median_members
    group by run_key

),

elapsed_queries as (

    -- the runs the stage estimate does not serve (fewer than the minimum of stage matches): only
    -- they read the elapsed estimate (chosen below). Two sorted look-ups each: the reference runs
    -- ending at or before e (not still running at e), and at or before max(e, SLO) (not breaching)
    select
        in_flight.run_key,
        in_flight.workflow_id,
        in_flight.elapsed_seconds,
        in_flight.cycle_time_slo_seconds

    from in_flight
    left join stage_estimates
        on in_flight.run_key = stage_estimates.run_key
    where coalesce(stage_estimates.reference_runs, 0) < {{ min_reference_runs }}

),

cycle_points as (

    -- the workflows' reference cycle times and the look-up points in one sorted list: a running
    -- count of reference runs at or below each point (at equal values the reference run first)
    select
        workflow_id,
        cycle_time_seconds as sort_point,
        0 as is_lookup,
        cast(null as varchar) as run_key,
        cast(null as varchar) as lookup_kind

    from reference_runs
    where workflow_id in (select elapsed_queries.workflow_id from elapsed_queries)

    union all

    select
        workflow_id,
        elapsed_seconds as sort_point,
        1 as is_lookup,
        run_key,
        'elapsed' as lookup_kind

    from elapsed_queries

    union all

    select
        workflow_id,
        case
            when cycle_time_slo_seconds > elapsed_seconds then cycle_time_slo_seconds else elapsed_seconds
        end as sort_point,
        1 as is_lookup,
        run_key,
        'slo' as lookup_kind

    from elapsed_queries
    where cycle_time_slo_seconds is not null

),

cycle_points_counted as (

    select
        workflow_id,
        is_lookup,
        run_key,
        lookup_kind,
        sum(1 - is_lookup) over (
            partition by workflow_id
            order by sort_point, is_lookup
            rows between unbounded preceding and current row
        ) as runs_at_or_below

    from cycle_points

),

workflow_cycles as (

    select
        workflow_id,
        cycle_time_seconds,
        row_number() over (partition by workflow_id order by cycle_time_seconds) as cycle_rank

    from reference_runs
    where workflow_id in (select elapsed_queries.workflow_id from elapsed_queries)

),

workflow_counts as (

    select
        workflow_id,
        count(*) as workflow_runs

    from reference_runs
    group by workflow_id

),

elapsed_counts as (

    -- the reference runs still running at e: cycle time > e, i.e. ranks ended_before + 1 .. n of the
    -- workflow's sorted cycle times; breached among them: cycle time > max(e, SLO)
    select
        elapsed_queries.run_key,
        elapsed_queries.workflow_id,
        elapsed_queries.elapsed_seconds,
        coalesce(ended_by.runs_at_or_below, 0) as ended_before,
        coalesce(workflow_counts.workflow_runs, 0) - coalesce(ended_by.runs_at_or_below, 0) as reference_runs,
        coalesce(workflow_counts.workflow_runs, 0) - coalesce(
            breach_by.runs_at_or_below, workflow_counts.workflow_runs, 0
        ) as breached_runs

    from elapsed_queries
    left join workflow_counts
        on elapsed_queries.workflow_id = workflow_counts.workflow_id
    left join cycle_points_counted as ended_by
        on elapsed_queries.run_key = ended_by.run_key
        and ended_by.lookup_kind = 'elapsed'
    left join cycle_points_counted as breach_by
        on elapsed_queries.run_key = breach_by.run_key
        and breach_by.lookup_kind = 'slo'

),

elapsed_median_ranks as (

    -- the median of the reference_runs cycle times from rank ended_before + 1 of the workflow's
    -- sorted list: the two ranks it reads, looked up by equality
    select
        run_key,
        workflow_id,
        elapsed_seconds,
        ended_before,
        reference_runs,
        breached_runs,
        ended_before + {{ median_low_rank('reference_runs') }} as cycle_rank

    from elapsed_counts
    where reference_runs > 0

    union all

    select
        run_key,
        workflow_id,
        elapsed_seconds,
        ended_before,
        reference_runs,
        breached_runs,
        ended_before + {{ median_high_rank('reference_runs') }} as cycle_rank

    from elapsed_counts
    where reference_runs > 0

),

elapsed_estimates as (

    select
        elapsed_median_ranks.run_key,
        elapsed_median_ranks.reference_runs,
        elapsed_median_ranks.breached_runs * 1.0 / elapsed_median_ranks.reference_runs as breach_probability,
        {{ median_from_ranks(
            'workflow_cycles.cycle_time_seconds - elapsed_median_ranks.elapsed_seconds',
            'workflow_cycles.cycle_rank - elapsed_median_ranks.ended_before',
            'elapsed_median_ranks.reference_runs'
        ) }} as remaining_seconds

    from elapsed_median_ranks
    inner join workflow_cycles
        on elapsed_median_ranks.workflow_id = workflow_cycles.workflow_id
        and elapsed_median_ranks.cycle_rank = workflow_cycles.cycle_rank
    group by elapsed_median_ranks.run_key, elapsed_median_ranks.reference_runs, elapsed_median_ranks.breached_runs

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
