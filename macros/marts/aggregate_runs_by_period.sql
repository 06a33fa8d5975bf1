{#- The body of agg_workflow_daily and agg_workflow_weekly, so both periods share one definition
    of every metric (_runs__docs.md). Reads `runs` (fct_workflow_runs) once; each run is counted
    in the period it started (runs_started) and in the period it ended (everything else). A spine
    fills the periods between a workflow-region's first and last activity with zeros.
    period: 'day' (column `day`) or 'week' (column `week_start`, the ISO Monday).
    grain: 'workflow_region' (one row per workflow x region x period) or 'workflow' (one row per
    workflow x period over all its regions, region 'all', as the 'workflow' grain of
    agg_cost_to_serve_weekly): the demo summary's grain (doc block runs_all_regions_grain).
    Incremental (macros/incremental/mart_recompute.sql): only the periods after the last one the
    table keeps are computed; the spine's bounds still come from every run. -#}
{% macro aggregate_runs_by_period(runs, period, grain='workflow_region') -%}

{%- if period == 'day' -%}
    {%- set period_column = 'day' -%}
    {%- set truncate = day_start -%}
{%- elif period == 'week' -%}
    {%- set period_column = 'week_start' -%}
    {%- set truncate = week_start -%}
{%- else -%}
    {{ exceptions.raise_compiler_error("aggregate_runs_by_period: period must be 'day' or 'week', got " ~ period) }}
{%- endif -%}
{%- if grain == 'workflow_region' -%}
    {%- set region = 'runs.region' -%}
{%- elif grain == 'workflow' -%}
    {%- set region = "cast('all' as varchar)" -%}
{%- else -%}
    {{ exceptions.raise_compiler_error("aggregate_runs_by_period: grain must be 'workflow_region' or 'workflow', got " ~ grain) }}
{%- endif -%}

with

runs as (

    select * from {{ runs }}

),

attributions as (

    select 'started' as counted_as
    union all
    select 'ended' as counted_as

),

run_periods as (

    -- one scan of the runs: each run once for the period it started in, once for the
    -- period it ended in (in-flight runs have no end period and drop out of the second)
    select
        runs.workflow_id,
        {{ region }} as region,
        attributions.counted_as,
        case
            when attributions.counted_as = 'started' then {{ truncate('runs.started_at') }}
            else {{ truncate('runs.ended_at') }}
        end as period_start,
        runs.final_status,
        runs.cycle_time_seconds,
        runs.within_slo,
        runs.compute_cost_cents

    from runs
    cross join attributions

),

activity as (

    select
        workflow_id,
        region,
        period_start,

        sum(case when counted_as = 'started' then 1 else 0 end) as runs_started,
        sum(case when counted_as = 'ended' and final_status = 'completed' then 1 else 0 end) as runs_completed,
        sum(case when counted_as = 'ended' and final_status = 'failed' then 1 else 0 end) as runs_failed,
        sum(case when counted_as = 'ended' and final_status = 'compensated' then 1 else 0 end) as runs_compensated,

        {{ percentile_cont("case when counted_as = 'ended' and final_status = 'completed' then cycle_time_seconds end", 0.5) }}
            as cycle_time_p50_seconds,
        {{ percentile_cont("case when counted_as = 'ended' and final_status = 'completed' then cycle_time_seconds end", 0.9) }}
            as cycle_time_p90_seconds,

        sum(
            case when counted_as = 'ended' and final_status = 'completed' and within_slo then 1 else 0 end
        ) as runs_within_slo,
        sum(
            case when counted_as = 'ended' and final_status = 'completed' and within_slo is not null then 1 else 0 end
        ) as runs_completed_with_slo,

        sum(case when counted_as = 'ended' then compute_cost_cents else 0 end) as compute_cost_cents

    from run_periods
    where period_start is not null
        -- incremental: only the periods the table is missing (the pre_hook deleted the recomputed ones)
        and {{ mart_missing_periods_filter('period_start', period_column) }}
    group by workflow_id, region, period_start

),

activity_bounds as (

    -- over all runs: the spine runs from a workflow-region's first to its last active period
    select
        workflow_id,
        region,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start

    from run_periods
    where period_start is not null
    group by workflow_id, region

),

spine as (

    {{ period_spine('activity_bounds', 'first_period_start', 'last_period_start', period, 'period_start') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

final as (

    select
        spine.workflow_id,
        spine.region,
        spine.period_start as {{ period_column }},

        cast(coalesce(activity.runs_started, 0) as bigint) as runs_started,
        cast(coalesce(activity.runs_completed, 0) as bigint) as runs_completed,
        cast(coalesce(activity.runs_failed, 0) as bigint) as runs_failed,
        cast(coalesce(activity.runs_compensated, 0) as bigint) as runs_compensated,

        -- rounded to the microsecond (the precision of timestamps): hides float noise of the
        -- interpolation (760.0000000000001 -> 760)
        cast(round(activity.cycle_time_p50_seconds, 6) as double) as cycle_time_p50_seconds,
        cast(round(activity.cycle_time_p90_seconds, 6) as double) as cycle_time_p90_seconds,

        cast(coalesce(activity.runs_within_slo, 0) as bigint) as runs_within_slo,
        cast(coalesce(activity.runs_completed_with_slo, 0) as bigint) as runs_completed_with_slo,
        case
            when coalesce(activity.runs_completed_with_slo, 0) = 0 then null
            else cast(activity.runs_within_slo as double) / activity.runs_completed_with_slo
        end as share_within_slo,

        cast(coalesce(activity.compute_cost_cents, 0) as double) as compute_cost_cents,

        {{ mart_build_state_columns() }}

    from spine
    cross join build_state
    left join activity
        on spine.workflow_id = activity.workflow_id
        and spine.region = activity.region
        and spine.period_start = activity.period_start
    {{ mart_kept_key_join('spine', ['workflow_id', 'region'], period_column) }}
    where {{ mart_kept_key_filter('spine.period_start') }}

)

select * from final

{%- endmacro %}
