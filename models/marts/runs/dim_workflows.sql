{#- One row per workflow: every registered workflow, plus every workflow_id seen in the events
    that the register does not know (is_registered = false, register columns null). -#}

with

registered_workflows as (

    select * from {{ ref('stg_governance__workflows') }}

),

slo_targets as (

    select * from {{ ref('stg_governance__slo_targets') }}

),

workflow_regions as (

    select * from {{ ref('stg_governance__workflow_regions') }}

),

runs as (

    select * from {{ ref('int_runs_summarized') }}

),

registered_region_lists as (

    select
        workflow_id,
        {{ string_agg_distinct('region') }} as regions

    from workflow_regions
    group by workflow_id

),

observed_workflows as (

    select
        workflow_id,
        {{ string_agg_distinct('region') }} as observed_regions,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at

    from runs
    group by workflow_id

),

workflow_ids as (

    select workflow_id from registered_workflows
    union
    select workflow_id from observed_workflows

),

final as (

    select
        workflow_ids.workflow_id,
        coalesce(registered_workflows.workflow_name, workflow_ids.workflow_id) as workflow_name,
        registered_workflows.workflow_id is not null as is_registered,

        registered_workflows.service_owner,
        registered_workflows.owner_team,
        registered_workflows.delegate_group,

        registered_region_lists.regions,
        observed_workflows.observed_regions,

        slo_targets.cycle_time_p90_hours,
        slo_targets.cycle_time_slo_seconds,
        slo_targets.exception_first_touch_minutes,
        slo_targets.exception_first_touch_slo_seconds,
        slo_targets.exception_resolution_hours,
        slo_targets.exception_resolution_slo_seconds,
        slo_targets.exception_budget_monthly_rate_pct,
        slo_targets.breach_action,

        observed_workflows.first_event_at,
        observed_workflows.last_event_at

    from workflow_ids
    left join registered_workflows
        on workflow_ids.workflow_id = registered_workflows.workflow_id
    left join slo_targets
        on workflow_ids.workflow_id = slo_targets.workflow_id
    left join registered_region_lists
        on workflow_ids.workflow_id = registered_region_lists.workflow_id
    left join observed_workflows
        on workflow_ids.workflow_id = observed_workflows.workflow_id

)

select * from final
