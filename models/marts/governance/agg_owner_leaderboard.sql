{#- One row per accountable owner (a service_owner in the register): the workflows they own, their
    last 4 weeks (28 days ending at as_of) of SLO performance and breaches, their open exceptions
    and their exception budgets this month, ranked "needs attention first".
    Definitions: doc blocks in _governance__docs.md. -#}

with

workflows as (

    select * from {{ ref('dim_workflows') }}

),

runs as (

    -- runs as of as_of (doc runs_as_of); the window below ends at as_of
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

budgets as (

    select * from {{ ref('agg_exception_budget_monthly') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

trailing_window as (

    -- the last 4 weeks: (as_of - 28 days, as_of]; no window (so no rows) before the first event
    select
        {{ dbt.dateadd('day', -28, 'as_of_ts') }} as window_start_ts,
        as_of_ts as window_end_ts

    from as_of
    where as_of_ts is not null

),

owned_workflows as (

    select
        workflow_id,
        service_owner as owner,
        owner_team

    from workflows
    where is_registered

),

owners as (

    select
        owner,
        min(owner_team) as owner_team,
        count(*) as workflows_owned

    from owned_workflows
    group by owner

),

runs_last_4_weeks as (

    -- completed runs of the owner's workflows that ended in the window
    select
        owned_workflows.owner,
        sum(case when runs.final_status = 'completed' then 1 else 0 end) as runs_completed,
        sum(case when runs.final_status = 'completed' and runs.within_slo then 1 else 0 end) as runs_within_slo,
        sum(case when runs.final_status = 'completed' and not runs.within_slo then 1 else 0 end) as runs_outside_slo

    from runs
    inner join owned_workflows
        on runs.workflow_id = owned_workflows.workflow_id
    cross join trailing_window
    where
        runs.ended_at > trailing_window.window_start_ts
        and runs.ended_at <= trailing_window.window_end_ts
    group by owned_workflows.owner

),

exceptions_last_4_weeks as (

    -- exceptions on the owner's workflows raised in the window
    select
        owned_workflows.owner,
        sum(case when exceptions.first_touch_breached then 1 else 0 end) as first_touch_breaches,
        sum(case when exceptions.resolution_breached then 1 else 0 end) as resolution_breaches,
        {{ percentile_cont('exceptions.time_to_first_touch_seconds', 0.9) }} as p90_time_to_first_touch_seconds

    from exceptions
    inner join owned_workflows
        on exceptions.workflow_id = owned_workflows.workflow_id
    cross join trailing_window
    where
        exceptions.raised_at > trailing_window.window_start_ts
        and exceptions.raised_at <= trailing_window.window_end_ts
    group by owned_workflows.owner

),

open_on_owned_workflows as (

    select
        owned_workflows.owner,
        count(*) as open_exceptions

    from exceptions
    inner join owned_workflows
        on exceptions.workflow_id = owned_workflows.workflow_id
    where exceptions.is_open
    group by owned_workflows.owner

),

open_routed_to_owner as (

    select
        routed_owner as owner,
        count(*) as open_exceptions_routed

    from exceptions
    where is_open
    group by routed_owner

),

budgets_this_month as (

    select
        owned_workflows.owner,
        sum(case when budgets.budget_status = 'breached' then 1 else 0 end) as workflows_budget_breached,
        sum(case when budgets.budget_status = 'at_risk' then 1 else 0 end) as workflows_budget_at_risk

    from budgets
    inner join owned_workflows
        on budgets.workflow_id = owned_workflows.workflow_id
    where budgets.is_current_month
    group by owned_workflows.owner

),

joined as (

    select
        owners.owner,
        owners.owner_team,
        owners.workflows_owned,

        coalesce(runs_last_4_weeks.runs_completed, 0) as runs_completed_last_4_weeks,
        coalesce(runs_last_4_weeks.runs_within_slo, 0) as runs_within_slo_last_4_weeks,
        case
            when coalesce(runs_last_4_weeks.runs_completed, 0) > 0
                then cast(runs_last_4_weeks.runs_within_slo as double) / runs_last_4_weeks.runs_completed
        end as share_within_slo_last_4_weeks,

        coalesce(open_on_owned_workflows.open_exceptions, 0) as open_exceptions,
        coalesce(open_routed_to_owner.open_exceptions_routed, 0) as open_exceptions_routed,

        coalesce(runs_last_4_weeks.runs_outside_slo, 0) as cycle_time_breaches_last_4_weeks,
        coalesce(exceptions_last_4_weeks.first_touch_breaches, 0) as first_touch_breaches_last_4_weeks,
        coalesce(exceptions_last_4_weeks.resolution_breaches, 0) as resolution_breaches_last_4_weeks,
        round(exceptions_last_4_weeks.p90_time_to_first_touch_seconds, 6) as p90_time_to_first_touch_seconds,

        coalesce(budgets_this_month.workflows_budget_breached, 0) as workflows_budget_breached,
        coalesce(budgets_this_month.workflows_budget_at_risk, 0) as workflows_budget_at_risk,

        trailing_window.window_start_ts,
        trailing_window.window_end_ts as as_of_ts

    from owners
    cross join trailing_window
    left join runs_last_4_weeks
        on owners.owner = runs_last_4_weeks.owner
    left join exceptions_last_4_weeks
        on owners.owner = exceptions_last_4_weeks.owner
    left join open_on_owned_workflows
        on owners.owner = open_on_owned_workflows.owner
    left join open_routed_to_owner
        on owners.owner = open_routed_to_owner.owner
    left join budgets_this_month
        on owners.owner = budgets_this_month.owner

),

scored as (

    select
        joined.*,
        cycle_time_breaches_last_4_weeks
            + first_touch_breaches_last_4_weeks
            + resolution_breaches_last_4_weeks as slo_breaches_last_4_weeks,
        case
            when workflows_budget_breached > 0 then 'breached'
            when workflows_budget_at_risk > 0 then 'at_risk'
            else 'ok'
        end as exception_budget_status,
        case
            when workflows_budget_breached > 0 then 1
            when workflows_budget_at_risk > 0 then 2
            else 3
        end as budget_status_order

    from joined

),

ranked as (

    -- needs attention first (doc leaderboard_rank)
    select
        scored.*,
        row_number() over (
            order by
                budget_status_order asc,
                slo_breaches_last_4_weeks desc,
                open_exceptions desc,
                share_within_slo_last_4_weeks asc nulls last,
                owner asc
        ) as leaderboard_rank

    from scored

),

final as (

    select
        cast(leaderboard_rank as integer) as leaderboard_rank,
        owner,
        owner_team,
        cast(workflows_owned as integer) as workflows_owned,

        cast(runs_completed_last_4_weeks as bigint) as runs_completed_last_4_weeks,
        cast(runs_within_slo_last_4_weeks as bigint) as runs_within_slo_last_4_weeks,
        cast(share_within_slo_last_4_weeks as double) as share_within_slo_last_4_weeks,

        cast(open_exceptions as bigint) as open_exceptions,
        cast(open_exceptions_routed as bigint) as open_exceptions_routed,

        cast(slo_breaches_last_4_weeks as bigint) as slo_breaches_last_4_weeks,
        cast(cycle_time_breaches_last_4_weeks as bigint) as cycle_time_breaches_last_4_weeks,
        cast(first_touch_breaches_last_4_weeks as bigint) as first_touch_breaches_last_4_weeks,
        cast(resolution_breaches_last_4_weeks as bigint) as resolution_breaches_last_4_weeks,
        cast(p90_time_to_first_touch_seconds as double) as p90_time_to_first_touch_seconds,

        exception_budget_status,
        cast(workflows_budget_breached as integer) as workflows_budget_breached,
        cast(workflows_budget_at_risk as integer) as workflows_budget_at_risk,

        window_start_ts,
        as_of_ts

    from ranked

)

select * from final
