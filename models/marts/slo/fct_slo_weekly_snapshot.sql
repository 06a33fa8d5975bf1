{#- One row per ISO week x registered workflow x SLI: good and valid events, objective, attainment,
    error budget and breach, appended week by week (incremental, delete+insert on week_start, folder
    config in dbt_project.yml). Definitions and the recompute rules: _slo__docs.md.

    Which weeks a run (re)computes - every week outside them keeps its rows, even after retention
    purged its raw events:
      first build (table absent)  every week from the first with data to the as_of week;
      incremental run             the as_of week and the var snapshot_lookback_weeks (default 1) weeks before it;
      var snapshot_week (Monday)  exactly that week, e.g. --vars '{snapshot_week: "2026-11-16"}'.
    Always clipped to [first week with data, as_of week]: a week outside it yields no rows, so its
    existing rows stay. -#}

{%- set snapshot_week = var('snapshot_week', none) -%}
{%- if snapshot_week is not none -%}
    {%- set snapshot_week = snapshot_week | string -%}
    {%- set parts = modules.re.match('^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$', snapshot_week) -%}
    {%- if not parts -%}
        {{ exceptions.raise_compiler_error("var snapshot_week must be an ISO date like '2026-11-16' (the Monday of the week), got '" ~ snapshot_week ~ "'") }}
    {%- endif -%}
    {%- set year, month = parts.group(1) | int, parts.group(2) | int -%}
    {%- set days_in_month = (modules.datetime.date(year + month // 12, month % 12 + 1, 1) - modules.datetime.timedelta(days=1)).day -%}
    {%- if parts.group(3) | int > days_in_month -%}
        {{ exceptions.raise_compiler_error("var snapshot_week is not a calendar date: '" ~ snapshot_week ~ "'") }}
    {%- endif -%}
    {%- set parsed_week = modules.datetime.datetime.strptime(snapshot_week, '%Y-%m-%d') -%}
    {%- if parsed_week.weekday() != 0 -%}
        {{ exceptions.raise_compiler_error("var snapshot_week must be the Monday that starts an ISO week, got '" ~ snapshot_week ~ "', a " ~ parsed_week.strftime('%A')) }}
    {%- endif -%}
{%- endif -%}

{%- set lookback_weeks = var('snapshot_lookback_weeks', 1) -%}
{%- if not modules.re.match('^\d{1,3}$', lookback_weeks | string) -%}
    {{ exceptions.raise_compiler_error("var snapshot_lookback_weeks must be a whole number of weeks (0 or more), got '" ~ lookback_weeks ~ "'") }}
{%- endif %}

with

runs as (

    select * from {{ ref('fct_workflow_runs') }}

),

runs_as_of as (

    -- runs as of as_of (doc runs_as_of): ended only when they ended by as_of
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

slo_targets as (

    select * from {{ ref('stg_governance__slo_targets') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

slis as (

    select 'cycle_time_within_slo' as sli
    union all
    select 'run_success' as sli
    union all
    select 'exception_first_touch_within_slo' as sli
    union all
    select 'exception_resolution_within_slo' as sli

),

activity as (

    select started_at as activity_at from runs
    union all
    select raised_at as activity_at from exceptions

),

data_weeks as (

    -- the weeks the data covers: from the week of the earliest retained activity to the as_of week
    select
        {{ week_start('first_activity.first_activity_at') }} as first_week_start,
        {{ week_start('as_of.as_of_ts') }} as as_of_week_start

    from (select min(activity_at) as first_activity_at from activity) as first_activity
    cross join as_of

),

requested_weeks as (

    select
        first_week_start,
        as_of_week_start,
        {% if snapshot_week is not none -%}
        cast('{{ snapshot_week }}' as date) as requested_start,
        cast('{{ snapshot_week }}' as date) as requested_end
        {%- elif is_incremental() -%}
        cast({{ dbt.dateadd('day', -7 * (lookback_weeks | int), 'as_of_week_start') }} as date) as requested_start,
        as_of_week_start as requested_end
        {%- else -%}
        first_week_start as requested_start,
        as_of_week_start as requested_end
        {%- endif %}

    from data_weeks
    where first_week_start is not null

),

recompute_window as (

    -- the requested weeks clipped to the data: outside it a week yields no rows and keeps its history
    select
        greatest(requested_start, first_week_start) as window_start,
        least(requested_end, as_of_week_start) as window_end

    from requested_weeks
    where greatest(requested_start, first_week_start) <= least(requested_end, as_of_week_start)

),

weeks as (

    {{ period_spine('recompute_window', 'window_start', 'window_end', 'week', 'week_start') }}

),

registered_runs as (

    -- ended runs of registered workflows, as of as_of, attributed to the week they ended
    select
        runs.workflow_id,
        {{ week_start('runs.ended_at') }} as week_start,
        runs.final_status,
        runs.within_slo

    from runs_as_of as runs
    inner join slo_targets
        on runs.workflow_id = slo_targets.workflow_id
    where runs.final_status in ('completed', 'failed', 'compensated')

),

registered_exceptions as (

    -- exceptions of registered workflows, attributed to the week they were raised
    select
        exceptions.workflow_id,
        {{ week_start('exceptions.raised_at') }} as week_start,
        exceptions.first_touch_at,
        exceptions.resolved_at,
        exceptions.first_touch_breached,
        exceptions.resolution_breached

    from exceptions
    inner join slo_targets
        on exceptions.workflow_id = slo_targets.workflow_id

),

event_verdicts as (

    -- one row per event and SLI: is it valid (its verdict is known), good, or still pending

    select
        workflow_id,
        week_start,
        'cycle_time_within_slo' as sli,
        case when within_slo is not null then 1 else 0 end as is_valid,
        case when within_slo then 1 else 0 end as is_good,
        0 as is_pending
    from registered_runs
    where final_status = 'completed'

    union all

    select
        workflow_id,
        week_start,
        'run_success' as sli,
        1 as is_valid,
        case when final_status = 'completed' then 1 else 0 end as is_good,
        0 as is_pending
    from registered_runs

    union all

    select
        workflow_id,
        week_start,
        'exception_first_touch_within_slo' as sli,
        case when first_touch_at is not null or first_touch_breached then 1 else 0 end as is_valid,
        case when first_touch_at is not null and not first_touch_breached then 1 else 0 end as is_good,
        case when first_touch_at is null and not first_touch_breached then 1 else 0 end as is_pending
    from registered_exceptions
    where first_touch_breached is not null

    union all

    select
        workflow_id,
        week_start,
        'exception_resolution_within_slo' as sli,
        case when resolved_at is not null or resolution_breached then 1 else 0 end as is_valid,
        case when resolved_at is not null and not resolution_breached then 1 else 0 end as is_good,
        case when resolved_at is null and not resolution_breached then 1 else 0 end as is_pending
    from registered_exceptions
    where resolution_breached is not null

),

weekly_counts as (

    select
        workflow_id,
        week_start,
        sli,
        sum(is_good) as good_events,
        sum(is_valid) as valid_events,
        sum(is_pending) as pending_events

    from event_verdicts
    group by workflow_id, week_start, sli

),

snapshot_grid as (

    -- every week in the window x registered workflow x SLI, with the SLI's objective
    select
        weeks.week_start,
        slo_targets.workflow_id,
        slis.sli,
        case slis.sli
            when 'cycle_time_within_slo' then slo_targets.cycle_time_objective_pct
            when 'run_success' then slo_targets.run_success_objective_pct
            when 'exception_first_touch_within_slo' then slo_targets.first_touch_objective_pct
            when 'exception_resolution_within_slo' then slo_targets.resolution_objective_pct
        end as objective_pct

    from weeks
    cross join slo_targets
    cross join slis

),

counted as (

    select
        snapshot_grid.week_start,
        snapshot_grid.workflow_id,
        snapshot_grid.sli,
        cast(snapshot_grid.objective_pct as double) as objective_pct,
        cast(coalesce(weekly_counts.good_events, 0) as bigint) as good_events,
        cast(coalesce(weekly_counts.valid_events, 0) as bigint) as valid_events,
        cast(coalesce(weekly_counts.pending_events, 0) as bigint) as pending_events

    from snapshot_grid
    left join weekly_counts
        on snapshot_grid.week_start = weekly_counts.week_start
        and snapshot_grid.workflow_id = weekly_counts.workflow_id
        and snapshot_grid.sli = weekly_counts.sli

),

budgeted as (

    select
        counted.*,
        valid_events - good_events as bad_events,
        -- rounded to 6 decimals like the runs marts: 10 x (100 - 97) / 100 is 0.3, not 0.30000000000000004
        round(valid_events * (100.0 - objective_pct) / 100.0, 6) as error_budget_events,
        round(valid_events * (100.0 - objective_pct) / 100.0 - (valid_events - good_events), 6)
            as error_budget_remaining_events

    from counted

),

final as (

    select
        {{ surrogate_key(['budgeted.week_start', 'budgeted.workflow_id', 'budgeted.sli']) }} as snapshot_key,
        budgeted.week_start,
        cast({{ dbt.dateadd('day', 7, 'budgeted.week_start') }} as date) as week_end,
        budgeted.workflow_id,
        budgeted.sli,

        budgeted.good_events,
        budgeted.valid_events,
        budgeted.bad_events,
        budgeted.pending_events,
        budgeted.objective_pct,
        case
            when budgeted.valid_events = 0 then null
            else round(100.0 * budgeted.good_events / budgeted.valid_events, 6)
        end as attainment_pct,
        cast(budgeted.error_budget_events as double) as error_budget_events,
        cast(budgeted.error_budget_remaining_events as double) as error_budget_remaining_events,
        case
            when budgeted.error_budget_events = 0 then null
            else round(100.0 * budgeted.error_budget_remaining_events / budgeted.error_budget_events, 6)
        end as error_budget_remaining_pct,
        -- attainment below the objective, i.e. more bad events than the budget; exactly at it is met
        budgeted.error_budget_remaining_events < 0 as is_breached,

        cast({{ dbt.dateadd('day', 7, 'budgeted.week_start') }} as timestamp) <= as_of.as_of_ts as is_complete_week,
        as_of.as_of_ts,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as snapshotted_at

    from budgeted
    cross join as_of

)

select * from final
