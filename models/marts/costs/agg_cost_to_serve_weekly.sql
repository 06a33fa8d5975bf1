{#- Cost to serve per ISO week (UTC) at two grains in one table (column `grain`):
    'owner_team_region' (owner team x region, workflow_id 'all') and 'workflow' (workflow x its
    runs' owner team, region 'all'). Completed runs, compute cost, human labor cost (priced at the
    owner team's hourly rate), total and cost per completed run; a spine from each key's first
    week with activity to the as_of week. Definitions: _costs__docs.md. Incremental by week (doc
    incremental_rules): the pre_hook deletes the weeks new loads touch and the open (as_of) week. -#}

with

run_week_costs as (

    select * from {{ ref('int_run_week_costs_aggregated') }}
    -- incremental: only the weeks the table is missing (the pre_hook deleted the recomputed ones)
    where {{ mart_missing_periods_filter('week_start', 'week_start') }}

),

runs as (

    select * from {{ ref('fct_workflow_runs') }}

),

runs_as_of as (

    -- runs as of as_of (doc runs_as_of): completed only when they ended by as_of
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

labor_rates as (

    select * from {{ ref('stg_governance__labor_rates') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

-- compute cost and human stage time: the events were pre-aggregated per run x region x week,
-- so the runs join happens on that grain, not per event
event_costs as (

    select
        run_week_costs.workflow_id,
        coalesce(runs.owner_team, 'unassigned') as owner_team,
        run_week_costs.region,
        run_week_costs.week_start,
        cast(0 as bigint) as completed_runs,
        run_week_costs.compute_cost_cents,
        run_week_costs.human_stage_seconds as stage_labor_seconds,
        cast(0 as double) as exception_labor_seconds

    from run_week_costs
    left join runs
        on run_week_costs.workflow_id = runs.workflow_id
        and run_week_costs.run_id = runs.run_id

),

-- labor part (b): an exception resolved by a person, from first touch to resolution, in the
-- week of the resolution (fct_exceptions already ignores events after as_of)
exception_labor as (

    select
        workflow_id,
        owner_team,
        region,
        {{ week_start('resolved_at') }} as week_start,
        cast(0 as bigint) as completed_runs,
        cast(0 as double) as compute_cost_cents,
        cast(0 as double) as stage_labor_seconds,
        greatest(coalesce({{ seconds_between('first_touch_at', 'resolved_at') }}, 0.0), 0.0)
            as exception_labor_seconds

    from exceptions
    where resolved_at is not null
        and {{ is_human_actor('resolved_by') }}
        and {{ mart_missing_periods_filter(week_start('resolved_at'), 'week_start') }}

),

completed_runs as (

    select
        runs.workflow_id,
        runs.owner_team,
        runs.region,
        {{ week_start('runs.ended_at') }} as week_start,
        count(*) as completed_runs,
        cast(0 as double) as compute_cost_cents,
        cast(0 as double) as stage_labor_seconds,
        cast(0 as double) as exception_labor_seconds

    from runs_as_of as runs
    where runs.final_status = 'completed'
        and {{ mart_missing_periods_filter(week_start('runs.ended_at'), 'week_start') }}
    group by runs.workflow_id, runs.owner_team, runs.region, {{ week_start('runs.ended_at') }}

),

cost_items as (

    select * from event_costs
    union all
    select * from exception_labor
    union all
    select * from completed_runs

),

by_owner_team_region as (

    select
        'owner_team_region' as grain,
        owner_team,
        region,
        'all' as workflow_id,
        week_start,
        sum(completed_runs) as completed_runs,
        sum(compute_cost_cents) as compute_cost_cents,
        sum(stage_labor_seconds) as stage_labor_seconds,
        sum(exception_labor_seconds) as exception_labor_seconds

    from cost_items
    group by owner_team, region, week_start

),

by_workflow as (

    select
        'workflow' as grain,
        owner_team,
        'all' as region,
        workflow_id,
        week_start,
        sum(completed_runs) as completed_runs,
        sum(compute_cost_cents) as compute_cost_cents,
        sum(stage_labor_seconds) as stage_labor_seconds,
        sum(exception_labor_seconds) as exception_labor_seconds

    from cost_items
    group by owner_team, workflow_id, week_start

),

activity as (

    select * from by_owner_team_region
    union all
    select * from by_workflow

),

activity_keys as (

    select grain, owner_team, region, workflow_id, week_start
    from activity
    {%- if is_incremental() %}

    union all

    -- incremental: the keys the table has (their spine goes on to the as_of week without new activity)
    select grain, owner_team, region, workflow_id, week_start
    from {{ this }}
    {%- endif %}

),

activity_bounds as (

    -- a key's spine runs from its first week with activity to the as_of week (incremental: the
    -- spine is then filtered to the weeks the table is missing)
    select
        activity_keys.grain,
        activity_keys.owner_team,
        activity_keys.region,
        activity_keys.workflow_id,
        min(activity_keys.week_start) as first_week_start,
        max({{ week_start('as_of.as_of_ts') }}) as last_week_start

    from activity_keys
    cross join as_of
    group by activity_keys.grain, activity_keys.owner_team, activity_keys.region, activity_keys.workflow_id

),

spine as (

    {{ period_spine('activity_bounds', 'first_week_start', 'last_week_start', 'week', 'week_start') }}

),

default_rate as (

    select
        hourly_rate,
        currency

    from labor_rates
    where owner_team is null

),

priced as (

    select
        spine.grain,
        spine.week_start,
        spine.owner_team,
        spine.region,
        spine.workflow_id,
        spine.week_start = spine.last_week_start as is_partial_week,

        coalesce(team_rates.currency, default_rate.currency) as currency,
        coalesce(team_rates.hourly_rate, default_rate.hourly_rate) as hourly_labor_rate,
        coalesce(team_rates.is_default_rate, true) as is_default_labor_rate,

        coalesce(activity.completed_runs, 0) as completed_runs,
        coalesce(activity.compute_cost_cents, 0) as compute_cost_cents,
        coalesce(activity.stage_labor_seconds, 0) as stage_labor_seconds,
        coalesce(activity.exception_labor_seconds, 0) as exception_labor_seconds

    from spine
    cross join default_rate
    left join labor_rates as team_rates
        on spine.owner_team = team_rates.owner_team
    left join activity
        on spine.grain = activity.grain
        and spine.owner_team = activity.owner_team
        and spine.region = activity.region
        and spine.workflow_id = activity.workflow_id
        and spine.week_start = activity.week_start

),

costed as (

    select
        priced.*,
        compute_cost_cents / 100.0 as compute_cost,
        stage_labor_seconds / 3600.0 * hourly_labor_rate as stage_labor_cost,
        exception_labor_seconds / 3600.0 * hourly_labor_rate as exception_labor_cost

    from priced

),

final as (

    select
        cast(grain as varchar) as grain,
        week_start,
        cast(owner_team as varchar) as owner_team,
        cast(region as varchar) as region,
        cast(workflow_id as varchar) as workflow_id,
        is_partial_week,
        currency,

        cast(completed_runs as bigint) as completed_runs,

        cast(compute_cost as double) as compute_cost,

        cast(stage_labor_seconds / 3600.0 as double) as stage_labor_hours,
        cast(exception_labor_seconds / 3600.0 as double) as exception_labor_hours,
        cast((stage_labor_seconds + exception_labor_seconds) / 3600.0 as double) as labor_hours,
        cast(hourly_labor_rate as double) as hourly_labor_rate,
        is_default_labor_rate,
        cast(stage_labor_cost as double) as stage_labor_cost,
        cast(exception_labor_cost as double) as exception_labor_cost,
        cast(stage_labor_cost + exception_labor_cost as double) as labor_cost,

        cast(compute_cost + stage_labor_cost + exception_labor_cost as double) as total_cost,
        case
            when completed_runs = 0 then null
            else cast((compute_cost + stage_labor_cost + exception_labor_cost) / completed_runs as double)
        end as cost_per_completed_run,

        {{ mart_build_state_columns() }}

    from costed
    cross join build_state
    where {{ mart_missing_periods_filter('costed.week_start', 'week_start') }}

)

select * from final
