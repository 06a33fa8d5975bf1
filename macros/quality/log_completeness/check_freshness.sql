{#- Log-completeness check freshness: a registered workflow whose newest event is older than its freshness threshold.
    Renders its CTEs (each ending with a comma; the last one is named freshness) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_freshness in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_freshness() -%}
newest_events as (

    select
        workflow_id,
        max(last_event_at) as newest_event_at

    from workflow_day_events
    group by workflow_id

),

freshness as (

    select
        'freshness' as check_name,
        slo_targets.workflow_id,
        cast(null as varchar) as run_id,
        cast(null as varchar) as event_id,
        {{ day_start('newest_events.newest_event_at') }} as event_day,
        case
            when newest_events.newest_event_at is null then 'no events of this registered workflow'
            else 'newest event ' || cast(newest_events.newest_event_at as varchar) || ' is older than '
                || cast(slo_targets.freshness_threshold_hours as varchar) || ' h at '
                || cast(clock.freshness_as_of_ts as varchar)
        end as detail

    from slo_targets
    cross join clock
    left join newest_events
        on slo_targets.workflow_id = newest_events.workflow_id
    where newest_events.newest_event_at is null
        or {{ seconds_between('newest_events.newest_event_at', 'clock.freshness_as_of_ts') }}
            > slo_targets.freshness_threshold_hours * 3600.0

),
{%- endmacro %}
