{#- One row per detection of an exception rule (int_alert_rule_detections), with its window, evidence and
    routed owner: the rule's route_to, else its exception class's route_to, else the workflow's service
    owner, else 'unassigned' (the routing of fct_exceptions, with the rule in front). Definitions: doc
    blocks exception_rule_* and detected_exception_routing in _alerting__docs.md.
    Incremental: a nightly build recomputes the detections int_alert_rule_detections wrote after this
    table's mark (its last build's _loaded_through), after its pre_hooks deleted the rows of the
    detections rewritten or removed since and gave the kept rows the new as_of
    (macros/alerting/alert_detection_scope.sql, doc block alert_detection_recompute); equal to a full build. -#}

{%- set mark = mart_kept_loaded_through() if is_incremental() else none %}

with

detections as (

    select * from {{ ref('int_alert_rule_detections') }}
    {%- if mark is not none %}
    -- the detections written since this table's last build (the pre_hook deleted every other row of theirs)
    where _loaded_through > {{ mark }}
    {%- endif %}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

classes as (

    select * from {{ ref('stg_governance__exception_classes') }}

),

workflows as (

    select * from {{ ref('dim_workflows') }}

),

runs as (

    select * from {{ ref('fct_workflow_runs') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

final as (

    select
        detections.detection_key,
        detections.rule_name,
        detections.rule_kind,
        detections.workflow_id,
        runs.region,
        detections.subject,
        detections.severity,
        detections.exception_class,
        detections.detected_at,
        detections.window_start,
        detections.window_end,
        cast(detections.window_hours as double) as window_hours,
        detections.detection_window_index,
        detections.observed_value,
        detections.threshold_value,
        detections.observed_unit,
        detections.evidence,
        coalesce(detections.rule_route_to, classes.route_to, workflows.service_owner, 'unassigned') as routed_owner,
        case
            when detections.rule_route_to is not null then 'rule'
            when classes.route_to is not null then 'exception_class'
            when workflows.service_owner is not null then 'workflow_service_owner'
            else 'unassigned'
        end as routing_source,
        detections.rule_runbook_url as runbook_url,
        as_of.as_of_ts,
        {{ mart_build_state_columns() }}

    from detections
    cross join as_of
    cross join build_state
    left join classes
        on detections.exception_class = classes.exception_class
    left join workflows
        on detections.workflow_id = workflows.workflow_id
    left join runs
        on detections.workflow_id = runs.workflow_id
        and detections.subject = runs.run_id

)

select * from final
