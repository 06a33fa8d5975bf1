with

source as (

    select * from {{ source('governance', 'slo_targets') }}

),

renamed as (

    select
        workflow_id,

        cycle_time_p90_hours,
        cycle_time_p90_hours * 3600.0 as cycle_time_slo_seconds,

        exception_first_touch_minutes,
        exception_first_touch_minutes * 60.0 as exception_first_touch_slo_seconds,

        exception_resolution_hours,
        exception_resolution_hours * 3600.0 as exception_resolution_slo_seconds,

        exception_budget_monthly_rate_pct,
        breach_action,

        cycle_time_objective_pct,
        first_touch_objective_pct,
        resolution_objective_pct,
        run_success_objective_pct,

        freshness_threshold_hours,
        volume_min_share_of_median_pct

    from source

)

select * from renamed
