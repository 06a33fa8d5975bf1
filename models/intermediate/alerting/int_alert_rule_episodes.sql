{#- One row per exception-rule alert episode, from fct_detected_exceptions:
      latency        one episode per slow stage attempt (subject = run_id): fired when the threshold was
                     crossed, resolved when the attempt ended;
      other kinds    one episode per run of consecutive windows with at least one detection (subject
                     null): fired at the first detection, resolved at the end of the first window after
                     them without one (known once that window has ended), else firing.
    Doc block alert_episode in models/marts/alerting/_alerting__docs.md. -#}

with

detections as (

    select * from {{ ref('fct_detected_exceptions') }}

),

latency_episodes as (

    select
        rule_name,
        workflow_id,
        region,
        subject,
        severity,
        exception_class,
        routed_owner as owner,
        routing_source as owner_role,
        runbook_url,
        detected_at as fired_at,
        case when window_end < as_of_ts then window_end end as resolved_at,
        rule_name || ': ' || workflow_id || ' run ' || subject || ' over '
            || {{ alert_number_text('threshold_value / 60.0', 1) }} || ' min ('
            || {{ alert_number_text('observed_value / 60.0', 1) }} || ' min'
            || case when observed_unit = 'business_seconds' then ' in business hours' else '' end || ')' as summary,  -- noqa: RF04
        evidence

    from detections
    where rule_kind = 'latency'

),

windowed as (

    select
        detections.*,
        detection_window_index - dense_rank() over (
            partition by rule_name order by detection_window_index
        ) as island

    from detections
    where rule_kind <> 'latency'

),

islands as (

    select
        rule_name,
        max(rule_kind) as rule_kind,
        max(workflow_id) as workflow_id,
        max(severity) as severity,
        max(exception_class) as exception_class,
        max(routed_owner) as owner,
        max(routing_source) as owner_role,
        max(runbook_url) as runbook_url,
        max(window_hours) as window_hours,
        max(as_of_ts) as as_of_ts,
        min(detected_at) as fired_at,
        min(detection_window_index) as first_window_index,
        max(detection_window_index) as last_window_index,
        count(*) as detections,
        max(observed_value) as peak_observed_value,
        max(threshold_value) as max_threshold_value

    from windowed
    group by rule_name, island

),

window_episodes as (

    select
        rule_name,
        workflow_id,
        cast(null as {{ dbt.type_string() }}) as region,
        cast(null as {{ dbt.type_string() }}) as subject,
        severity,
        exception_class,
        owner,
        owner_role,
        runbook_url,
        fired_at,
        case
            when {{ alert_window_start('last_window_index + 2', 'window_hours') }} <= as_of_ts
                then {{ alert_window_start('last_window_index + 2', 'window_hours') }}
        end as resolved_at,
        rule_name || ': ' || workflow_id || ' ' || rule_kind || ' rule - '
            || cast(detections as {{ dbt.type_string() }}) || ' detection(s) in '
            || cast(last_window_index - first_window_index + 1 as {{ dbt.type_string() }}) || ' window(s) of '
            || {{ alert_number_text('window_hours', 1) }} || ' h' as summary,  -- noqa: RF04
        {{ alert_json_object([
            ('rule_kind', alert_json_string('rule_kind')),
            ('detections', alert_json_number('detections')),
            ('first_window_start', alert_json_string(alert_timestamp_text(alert_window_start('first_window_index', 'window_hours')))),
            ('last_window_end', alert_json_string(alert_timestamp_text(alert_window_start('last_window_index + 1', 'window_hours')))),
            ('peak_observed_value', alert_json_number('peak_observed_value')),
            ('threshold_value', alert_json_number('max_threshold_value')),
        ]) }} as evidence

    from islands

),

final as (

    select * from latency_episodes
    union all
    select * from window_episodes

)

select * from final
