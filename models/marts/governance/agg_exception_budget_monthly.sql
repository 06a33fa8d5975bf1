{#- One row per workflow x calendar month (UTC): runs started, runs that raised an exception, the
    exception rate against the register's monthly exception budget, the breach verdict and, for
    the month containing as_of, the month-to-date burn and the end-of-month projection.
    Definitions: doc blocks in _governance__docs.md. Incremental by month (doc incremental_rules):
    the pre_hook deletes the months new runs touch and the open (as_of) month; this fills them. -#}

with

runs as (

    -- runs as of as_of (doc runs_as_of): runs starting after as_of do not exist yet
    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

workflows as (

    select * from {{ ref('dim_workflows') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

as_of_month as (

    select
        as_of_ts,
        {{ month_start('as_of_ts') }} as as_of_month_start

    from as_of

),

runs_as_of as (

    -- a run belongs to the UTC month of its started_at
    select
        runs.workflow_id,
        {{ month_start('runs.started_at') }} as month_start,
        runs.exception_count > 0 as has_exception

    from runs

),

monthly_runs as (

    select
        workflow_id,
        month_start,
        count(*) as runs_started,
        sum(case when has_exception then 1 else 0 end) as runs_with_exceptions

    from runs_as_of
    -- incremental: only the months the table is missing (the pre_hook deleted the recomputed ones)
    where {{ mart_missing_periods_filter('month_start', 'month_start') }}
    group by workflow_id, month_start

),

first_months as (

    -- over all runs: the spine starts at a workflow's first month with runs
    select
        workflow_id,
        min(month_start) as first_month_start

    from runs_as_of
    group by workflow_id

),

workflow_bounds as (

    -- every registered workflow (from its first month with runs, or the as_of month when it has
    -- none) and every unregistered workflow with runs, up to the as_of month
    select
        workflows.workflow_id,
        workflows.is_registered,
        workflows.service_owner,
        workflows.exception_budget_monthly_rate_pct,
        workflows.breach_action,
        coalesce(first_months.first_month_start, as_of_month.as_of_month_start) as first_month_start,
        as_of_month.as_of_month_start as last_month_start,
        as_of_month.as_of_ts

    from workflows
    cross join as_of_month
    left join first_months
        on workflows.workflow_id = first_months.workflow_id
    where workflows.is_registered or first_months.workflow_id is not null

),

spine as (

    {{ period_spine('workflow_bounds', 'first_month_start', 'last_month_start', 'month', 'month_start') }}

),

measured as (

    select
        spine.workflow_id,
        spine.month_start,
        spine.is_registered as is_registered_workflow,
        spine.service_owner,
        spine.month_start = spine.last_month_start as is_current_month,
        {{ dbt.datediff('spine.month_start', dbt.dateadd('month', 1, 'spine.month_start'), 'day') }} as days_in_month,
        case
            when spine.month_start = spine.last_month_start
                then {{ seconds_between('cast(spine.month_start as timestamp)', 'spine.as_of_ts') }} / 86400.0
        end as elapsed_days,

        coalesce(monthly_runs.runs_started, 0) as runs_started,
        coalesce(monthly_runs.runs_with_exceptions, 0) as runs_with_exceptions,
        spine.exception_budget_monthly_rate_pct as budget_rate_pct,
        spine.breach_action,
        spine.as_of_ts

    from spine
    left join monthly_runs
        on spine.workflow_id = monthly_runs.workflow_id
        and spine.month_start = monthly_runs.month_start

),

consumption as (

    select
        measured.*,

        -- rounded to 6 decimals to drop float noise, so a rate exactly on the budget is exactly 100
        case
            when runs_started > 0 then round(100.0 * runs_with_exceptions / runs_started, 6)
        end as exception_rate_pct,
        case
            when runs_started > 0 and budget_rate_pct > 0
                then round(100.0 * 100.0 * runs_with_exceptions / (runs_started * budget_rate_pct), 6)
        end as budget_consumed_pct

    from measured

),

burn as (

    select
        consumption.*,

        -- current month only: the share of the month's allowance spent so far, its pace per
        -- elapsed day and the linear projection to the month's end (doc budget_month_to_date)
        case
            when is_current_month and elapsed_days > 0
                then budget_consumed_pct * elapsed_days / days_in_month
        end as budget_spent_to_date_pct

    from consumption

),

final as (

    select
        workflow_id,
        month_start,
        is_registered_workflow,
        service_owner,
        is_current_month,
        cast(days_in_month as integer) as days_in_month,

        cast(runs_started as bigint) as runs_started,
        cast(runs_with_exceptions as bigint) as runs_with_exceptions,
        cast(exception_rate_pct as double) as exception_rate_pct,
        cast(budget_rate_pct as double) as budget_rate_pct,
        cast(budget_consumed_pct as double) as budget_consumed_pct,

        -- strictly over the budget is a breach; exactly 100 is not; no runs spend nothing
        case
            when budget_rate_pct is null then null
            else coalesce(budget_consumed_pct > 100, false)
        end as is_breached,
        case
            when budget_rate_pct is null then null
            when budget_consumed_pct > 100 then 'breached'
            when budget_consumed_pct > 80 then 'at_risk'
            else 'ok'
        end as budget_status,
        breach_action,

        cast(round(elapsed_days, 6) as double) as elapsed_days,
        cast(round(budget_spent_to_date_pct, 6) as double) as budget_spent_to_date_pct,
        cast(round(budget_spent_to_date_pct / elapsed_days, 6) as double) as mtd_burn_rate_pct_per_day,
        cast(round(budget_spent_to_date_pct * days_in_month / elapsed_days, 6) as double)
            as projected_end_of_month_consumed_pct,

        {{ mart_build_state_columns() }}

    from burn
    cross join build_state
    where {{ mart_missing_periods_filter('burn.month_start', 'month_start') }}

)

select * from final
