{#- One row per workflow with an error budget: is it intact at as_of? Intact = no SLI of the workflow
    has spent its SLO-window error budget (bad verdicts in the register's slo_window_days before the
    latest 5-minute instant <= valid x (1 - objective)) and the month-to-date exception budget is not
    breached. Doc block alert_error_budget_intact in models/marts/alerting/_alerting__docs.md. -#}

with

burn as (

    select * from {{ ref('int_slo_burn_rates') }}

),

monthly as (

    select * from {{ ref('agg_exception_budget_monthly') }}

),

slo_budgets as (

    select
        workflow_id,
        min(
            case
                when bad_slo_window > valid_slo_window * (1.0 - objective_pct / 100.0) then 0
                else 1
            end
        ) as slo_budgets_intact

    from burn
    where is_latest_instant
    group by workflow_id

),

exception_budgets as (

    select
        workflow_id,
        max(case when is_breached then 1 else 0 end) as exception_budget_breached

    from monthly
    where is_current_month
    group by workflow_id

),

final as (

    select
        coalesce(slo_budgets.workflow_id, exception_budgets.workflow_id) as workflow_id,
        coalesce(slo_budgets.slo_budgets_intact, 1) = 1 as slo_budgets_intact,
        coalesce(exception_budgets.exception_budget_breached, 0) = 0 as exception_budget_intact,
        coalesce(slo_budgets.slo_budgets_intact, 1) = 1
            and coalesce(exception_budgets.exception_budget_breached, 0) = 0 as error_budget_intact

    from slo_budgets
    full outer join exception_budgets
        on slo_budgets.workflow_id = exception_budgets.workflow_id

)

select * from final
