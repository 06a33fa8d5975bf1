{#- One row per registered workflow x metric: the metric over the workflow's baseline window (the
    register's owners[].baseline, default its first 6 full ISO weeks of data) against the latest
    var improvement_recent_weeks (default 4) full ISO weeks before as_of, and the change.
    Definitions: doc blocks in _improvement__docs.md. Rebuilt whole every build (a table): both
    windows move with as_of and the register, so there is nothing to keep. -#}

{%- set recent_weeks = var('improvement_recent_weeks', 4) -%}
{%- if not modules.re.match('^\d{1,2}$', recent_weeks | string) or (recent_weeks | int) < 1 or (recent_weeks | int) > 52 -%}
    {{ exceptions.raise_compiler_error("var improvement_recent_weeks must be a whole number of weeks from 1 to 52, got '" ~ recent_weeks ~ "'") }}
{%- endif %}

with

workflows as (

    select * from {{ ref('dim_workflows') }}

),

baselines as (

    select * from {{ ref('stg_governance__improvement_baselines') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

runs as (

    -- runs as of as_of (doc runs_as_of)
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

workflow_costs as (

    select * from {{ ref('agg_cost_to_serve_weekly') }}
    where grain = 'workflow'

),

first_full_weeks as (

    -- a workflow's first full ISO week: the first Monday on or after the UTC day of its first event
    select
        workflow_id,
        workflow_name,
        case
            when {{ day_start('first_event_at') }} = {{ week_start('first_event_at') }}
                then {{ week_start('first_event_at') }}
            else {{ add_days(week_start('first_event_at'), 7) }}
        end as first_full_week

    from workflows
    where is_registered and first_event_at is not null

),

windows as (

    -- the latest full week is the one before as_of's week; a window's weeks after it are not counted
    select
        first_full_weeks.workflow_id,
        first_full_weeks.workflow_name,
        case when baselines.baseline_start_week is null then 'default' else 'register' end as baseline_source,
        coalesce(baselines.baseline_start_week, first_full_weeks.first_full_week) as baseline_week_from,
        coalesce(baselines.baseline_weeks, 6) as baseline_weeks,
        {{ add_days(week_start('as_of.as_of_ts'), -7 * (recent_weeks | int)) }} as recent_week_from,
        {{ recent_weeks | int }} as recent_weeks,
        {{ week_start('as_of.as_of_ts') }} as as_of_week,
        as_of.as_of_ts

    from first_full_weeks
    cross join as_of
    left join baselines
        on first_full_weeks.workflow_id = baselines.workflow_id
    where as_of.as_of_ts is not null

),

window_bounds as (

    select
        *,
        {{ add_days('baseline_week_from', '7 * baseline_weeks') }} as baseline_week_to

    from windows

),

window_rows as (

    -- each window as [week_from, week_to): baseline weeks that have not ended by as_of are left out
    select
        workflow_id,
        'baseline' as window_name,
        baseline_week_from as week_from,
        case when baseline_week_to < as_of_week then baseline_week_to else as_of_week end as week_to

    from window_bounds

    union all

    select
        workflow_id,
        'recent' as window_name,
        recent_week_from as week_from,
        as_of_week as week_to

    from window_bounds

),

window_spine_bounds as (

    -- the first and last Monday of each non-empty window, for the week spine
    select
        workflow_id,
        window_name,
        week_from,
        {{ add_days('week_to', -7) }} as last_week

    from window_rows
    where week_to > week_from

),

window_weeks as (

    {{ period_spine('window_spine_bounds', 'week_from', 'last_week', 'week', 'week_start') }}

),

run_measures as (

    select
        window_rows.workflow_id,
        window_rows.window_name,
        count(*) as runs_completed,
        {{ percentile_cont('runs.cycle_time_seconds', 0.9) }} as cycle_time_p90_seconds,
        sum(case when runs.within_slo is not null then 1 else 0 end) as runs_completed_with_slo,
        sum(case when runs.within_slo = false then 1 else 0 end) as runs_breaching_slo

    from window_rows
    inner join runs
        on window_rows.workflow_id = runs.workflow_id
        and {{ week_start('runs.ended_at') }} >= window_rows.week_from
        and {{ week_start('runs.ended_at') }} < window_rows.week_to
    where runs.final_status = 'completed'
    group by window_rows.workflow_id, window_rows.window_name

),

handoff_measures as (

    -- exceptions raised in the window and touched by as_of: wall-clock raise -> first touch
    select
        window_rows.workflow_id,
        window_rows.window_name,
        {{ percentile_cont(seconds_between('exceptions.raised_at', 'exceptions.first_touch_at'), 0.5) }}
            as handoff_delay_p50_seconds

    from window_rows
    inner join exceptions
        on window_rows.workflow_id = exceptions.workflow_id
        and {{ week_start('exceptions.raised_at') }} >= window_rows.week_from
        and {{ week_start('exceptions.raised_at') }} < window_rows.week_to
    where exceptions.first_touch_at is not null
    group by window_rows.workflow_id, window_rows.window_name

),

backlog_by_week as (

    -- open exceptions at the end of each week of the window (raised before, not resolved before it)
    select
        window_weeks.workflow_id,
        window_weeks.window_name,
        window_weeks.week_start,
        count(exceptions.exception_id) as open_exceptions

    from window_weeks
    left join exceptions
        on window_weeks.workflow_id = exceptions.workflow_id
        and exceptions.raised_at < cast({{ add_days('window_weeks.week_start', 7) }} as timestamp)
        and (
            exceptions.resolved_at is null
            or exceptions.resolved_at >= cast({{ add_days('window_weeks.week_start', 7) }} as timestamp)
        )
    group by window_weeks.workflow_id, window_weeks.window_name, window_weeks.week_start

),

backlog_measures as (

    select
        workflow_id,
        window_name,
        avg(cast(open_exceptions as double)) as exception_backlog

    from backlog_by_week
    group by workflow_id, window_name

),

cost_measures as (

    select
        window_rows.workflow_id,
        window_rows.window_name,
        max(workflow_costs.currency) as currency,
        sum(workflow_costs.completed_runs) as cost_completed_runs,
        sum(workflow_costs.labor_hours) as labor_hours,
        sum(workflow_costs.total_cost) as total_cost

    from window_rows
    inner join workflow_costs
        on window_rows.workflow_id = workflow_costs.workflow_id
        and workflow_costs.week_start >= window_rows.week_from
        and workflow_costs.week_start < window_rows.week_to
    group by window_rows.workflow_id, window_rows.window_name

),

measures as (

    select
        window_rows.workflow_id,
        window_rows.window_name,
        coalesce(run_measures.runs_completed, 0) as runs_completed,
        run_measures.cycle_time_p90_seconds,
        case
            when coalesce(run_measures.runs_completed_with_slo, 0) = 0 then null
            else cast(run_measures.runs_breaching_slo as double) / run_measures.runs_completed_with_slo
        end as sla_breach_rate,
        backlog_measures.exception_backlog,
        handoff_measures.handoff_delay_p50_seconds,
        cost_measures.currency,
        cost_measures.cost_completed_runs,
        cost_measures.labor_hours,
        case
            when coalesce(cost_measures.cost_completed_runs, 0) = 0 then null
            else cost_measures.labor_hours / cost_measures.cost_completed_runs
        end as human_hours_per_run,
        case
            when coalesce(cost_measures.cost_completed_runs, 0) = 0 then null
            else cost_measures.total_cost / cost_measures.cost_completed_runs
        end as cost_per_run

    from window_rows
    left join run_measures
        on window_rows.workflow_id = run_measures.workflow_id
        and window_rows.window_name = run_measures.window_name
    left join handoff_measures
        on window_rows.workflow_id = handoff_measures.workflow_id
        and window_rows.window_name = handoff_measures.window_name
    left join backlog_measures
        on window_rows.workflow_id = backlog_measures.workflow_id
        and window_rows.window_name = backlog_measures.window_name
    left join cost_measures
        on window_rows.workflow_id = cost_measures.workflow_id
        and window_rows.window_name = cost_measures.window_name

),

paired as (

    select
        window_bounds.*,
        baseline.runs_completed as baseline_runs_completed,
        recent.runs_completed as recent_runs_completed,
        baseline.cycle_time_p90_seconds as baseline_cycle_time_p90_seconds,
        recent.cycle_time_p90_seconds as recent_cycle_time_p90_seconds,
        baseline.sla_breach_rate as baseline_sla_breach_rate,
        recent.sla_breach_rate as recent_sla_breach_rate,
        baseline.exception_backlog as baseline_exception_backlog,
        recent.exception_backlog as recent_exception_backlog,
        baseline.handoff_delay_p50_seconds as baseline_handoff_delay_p50_seconds,
        recent.handoff_delay_p50_seconds as recent_handoff_delay_p50_seconds,
        baseline.human_hours_per_run as baseline_human_hours_per_run,
        recent.human_hours_per_run as recent_human_hours_per_run,
        -- the hours the recent volume would have taken at the baseline's hours per run
        baseline.human_hours_per_run * recent.cost_completed_runs as baseline_hours_for_recent_volume,
        recent.labor_hours as recent_labor_hours,
        baseline.cost_per_run as baseline_cost_per_run,
        recent.cost_per_run as recent_cost_per_run,
        coalesce(recent.currency, baseline.currency) as currency

    from window_bounds
    inner join measures as baseline
        on window_bounds.workflow_id = baseline.workflow_id
        and baseline.window_name = 'baseline'
    inner join measures as recent
        on window_bounds.workflow_id = recent.workflow_id
        and recent.window_name = 'recent'

),

metrics as (

    select *, 1 as metric_order, 'cycle_time_p90_seconds' as metric, 'seconds' as unit,
        baseline_cycle_time_p90_seconds as baseline_value, recent_cycle_time_p90_seconds as recent_value
    from paired

    union all

    select *, 2 as metric_order, 'sla_breach_rate' as metric, 'share' as unit,
        baseline_sla_breach_rate as baseline_value, recent_sla_breach_rate as recent_value
    from paired

    union all

    select *, 3 as metric_order, 'exception_backlog' as metric, 'exceptions' as unit,
        baseline_exception_backlog as baseline_value, recent_exception_backlog as recent_value
    from paired

    union all

    select *, 4 as metric_order, 'handoff_delay_p50_seconds' as metric, 'seconds' as unit,
        baseline_handoff_delay_p50_seconds as baseline_value, recent_handoff_delay_p50_seconds as recent_value
    from paired

    union all

    select *, 5 as metric_order, 'human_hours_per_run' as metric, 'hours' as unit,
        baseline_human_hours_per_run as baseline_value, recent_human_hours_per_run as recent_value
    from paired

    union all

    select *, 6 as metric_order, 'human_hours_for_recent_volume' as metric, 'hours' as unit,
        baseline_hours_for_recent_volume as baseline_value, recent_labor_hours as recent_value
    from paired

    union all

    select *, 7 as metric_order, 'cost_per_run' as metric, coalesce(currency, 'currency') as unit,
        baseline_cost_per_run as baseline_value, recent_cost_per_run as recent_value
    from paired

),

verdicts as (

    select
        *,
        case
            when baseline_week_to > as_of_week then 'baseline_not_ended'
            when baseline_week_to > recent_week_from then 'windows_overlap'
            when baseline_value is null then 'no_baseline_value'
            when recent_value is null then 'no_recent_value'
            else 'comparable'
        end as comparison_status

    from metrics

),

final as (

    select
        workflow_id,
        workflow_name,
        cast(metric_order as integer) as metric_order,
        metric,
        unit,
        baseline_source,
        baseline_week_from,
        cast(baseline_weeks as integer) as baseline_weeks,
        {{ add_days('baseline_week_to', -7) }} as baseline_week_to,
        recent_week_from,
        cast(recent_weeks as integer) as recent_weeks,
        {{ add_days('as_of_week', -7) }} as recent_week_to,
        cast(baseline_runs_completed as bigint) as baseline_runs_completed,
        cast(recent_runs_completed as bigint) as recent_runs_completed,
        cast(round(baseline_value, 6) as double) as baseline_value,
        cast(round(recent_value, 6) as double) as recent_value,
        comparison_status,
        case
            when comparison_status = 'comparable' then cast(round(recent_value - baseline_value, 6) as double)
        end as change_value,
        case
            when comparison_status = 'comparable' and baseline_value <> 0
                then cast(round(100.0 * (recent_value - baseline_value) / baseline_value, 6) as double)
        end as change_pct,
        case
            when comparison_status = 'comparable' then recent_value < baseline_value
        end as is_improvement,
        as_of_ts

    from verdicts

)

select * from final
