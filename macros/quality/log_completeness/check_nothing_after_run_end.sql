{#- Log-completeness check nothing_after_run_end: an event after the end of its run, except exception follow-ups and the compensation of a failed run.
    Renders its CTEs (each ending with a comma; the last one is named nothing_after_run_end) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_nothing_after_run_end in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_nothing_after_run_end() -%}
nothing_after_run_end as (

    select
        'nothing_after_run_end' as check_name,
        flagged_events.workflow_id,
        flagged_events.run_id,
        flagged_events.event_id,
        flagged_events.event_day,
        flagged_events.event_type || ' after the run ended (' || telemetry_runs.ending_event_type || ')' as detail

    from flagged_events
    inner join telemetry_runs
        on flagged_events.workflow_id = telemetry_runs.workflow_id
        and flagged_events.run_id = telemetry_runs.run_id
    where telemetry_runs.ended_at is not null
        -- only the runs with something after the end (the per-run maxima), so the join is small
        and (
            telemetry_runs.last_checked_event_at > telemetry_runs.ended_at
            or (
                telemetry_runs.last_compensation_at > telemetry_runs.ended_at
                and telemetry_runs.ending_event_type <> 'run_failed'
            )
        )
        -- equal timestamps are not "after"
        and flagged_events.event_ts > telemetry_runs.ended_at
        and flagged_events.event_type not in ('exception_acknowledged', 'exception_resolved')
        and not (flagged_events.event_type = 'run_compensated' and telemetry_runs.ending_event_type = 'run_failed')

),
{%- endmacro %}
