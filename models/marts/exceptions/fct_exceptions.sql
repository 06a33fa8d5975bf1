{#- One row per exception_id: owner, clocks, targets and breach verdicts as of as_of.
    Definitions: doc blocks in _exceptions__docs.md. Incremental by exception (doc incremental_rules):
    the pre_hook deletes the exceptions and the runs landed since the last build and every
    exception still open or untouched (their clocks run to as_of); this fills them. -#}

with

exceptions as (

    select summarized.*
    from {{ ref('int_exceptions_summarized') }} as summarized
    -- incremental: the exceptions the table is missing (the pre_hook deleted the recomputed ones)
    {{ mart_missing_keys_filter('summarized', ['exception_id']) }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

classes as (

    select * from {{ ref('stg_governance__exception_classes') }}

),

thresholds as (

    select * from {{ ref('stg_governance__aging_alert_thresholds') }}

),

workflows as (

    select * from {{ ref('dim_workflows') }}

),

runs as (

    select * from {{ ref('fct_workflow_runs') }}

),

joined as (

    select
        exceptions.exception_id,
        exceptions.workflow_id,
        exceptions.run_id,
        exceptions.exception_class,
        coalesce(exceptions.event_severity, classes.severity) as severity,
        case
            when exceptions.event_severity is not null then 'event'
            when classes.severity is not null then 'register'
        end as severity_source,
        coalesce(classes.route_to, workflows.service_owner, 'unassigned') as routed_owner,
        case
            when classes.route_to is not null then 'exception_class'
            when workflows.service_owner is not null then 'workflow_service_owner'
            else 'unassigned'
        end as routing_source,
        coalesce(runs.owner, 'unassigned') as workflow_owner,
        coalesce(runs.owner_team, 'unassigned') as owner_team,
        exceptions.region,

        exceptions.has_raised_event,
        coalesce(exceptions.raised_at, exceptions.first_event_at) as raised_at,
        exceptions.first_touch_at,
        exceptions.first_touch_by,
        exceptions.resolved_at,
        exceptions.resolved_by,

        coalesce(classes.snooze_policy_seconds, 0.0) as snooze_seconds,
        workflows.exception_first_touch_slo_seconds as first_touch_target_seconds,
        workflows.exception_resolution_slo_seconds as resolution_target_seconds,
        thresholds.threshold_seconds as aging_alert_threshold_seconds,

        as_of.as_of_ts

    from exceptions
    cross join as_of
    left join classes
        on exceptions.exception_class = classes.exception_class
    left join workflows
        on exceptions.workflow_id = workflows.workflow_id
    left join runs
        on exceptions.workflow_id = runs.workflow_id
        and exceptions.run_id = runs.run_id
    left join thresholds
        on coalesce(exceptions.event_severity, classes.severity) = thresholds.severity

),

clocks as (

    select
        joined.*,

        -- first touch: the clock starts snooze_seconds after the raise; a touch inside the snooze is 0
        case
            when first_touch_at is not null
                then greatest({{ seconds_between('raised_at', 'first_touch_at') }} - snooze_seconds, 0.0)
        end as time_to_first_touch_seconds,
        -- untouched as of as_of: how long the first-touch clock has been running
        case
            when first_touch_at is null
                then greatest({{ seconds_between('raised_at', 'as_of_ts') }} - snooze_seconds, 0.0)
        end as untouched_clock_seconds,

        case
            when resolved_at is not null then {{ seconds_between('raised_at', 'resolved_at') }}
        end as time_to_resolution_seconds,
        case
            when resolved_at is null then {{ seconds_between('raised_at', 'as_of_ts') }}
        end as age_seconds

    from joined

),

final as (

    select
        exception_id,
        workflow_id,
        run_id,
        exception_class,
        severity,
        severity_source,
        routed_owner,
        routing_source,
        workflow_owner,
        owner_team,
        region,

        raised_at,
        first_touch_at,
        resolved_at,
        first_touch_by,
        resolved_by,
        has_raised_event,

        time_to_first_touch_seconds,
        time_to_resolution_seconds,
        snooze_seconds,
        first_touch_target_seconds,
        resolution_target_seconds,
        aging_alert_threshold_seconds,

        -- a breach is strictly over the target: exactly at the target is within
        case
            when first_touch_target_seconds is null then null
            else coalesce(time_to_first_touch_seconds, untouched_clock_seconds) > first_touch_target_seconds
        end as first_touch_breached,
        case
            when resolution_target_seconds is null then null
            else coalesce(time_to_resolution_seconds, age_seconds) > resolution_target_seconds
        end as resolution_breached,
        case
            when aging_alert_threshold_seconds is null then null
            else coalesce(time_to_resolution_seconds, age_seconds) > aging_alert_threshold_seconds
        end as aging_alert_breached,

        resolved_at is null as is_open,
        age_seconds,

        {{ mart_build_state_columns() }}

    from clocks
    cross join build_state

)

select * from final
