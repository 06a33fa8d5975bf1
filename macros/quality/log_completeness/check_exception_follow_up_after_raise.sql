{#- Log-completeness check exception_follow_up_after_raise: an acknowledgement or resolution without its exception_raised, or before it.
    Renders its CTEs (each ending with a comma; the last one is named exception_follow_up_after_raise) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_exception_follow_up_after_raise in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_exception_follow_up_after_raise(events_relation) -%}
exception_raises as (

    -- the raises of the follow-ups' exceptions, from every event (a raise may sit in another run
    -- than its follow-ups: flagged_events may hold the touched runs only)
    select
        raises.exception_id,
        min(raises.event_ts) as raised_at

    from {{ events_relation }} as raises
    where raises.event_type = 'exception_raised'
        and raises.exception_id in (
            select follow_ups.exception_id
            from flagged_events as follow_ups
            where follow_ups.event_type in ('exception_acknowledged', 'exception_resolved')
        )
    group by raises.exception_id

),

exception_follow_up_after_raise as (

    select
        'exception_follow_up_after_raise' as check_name,
        follow_ups.workflow_id,
        follow_ups.run_id,
        follow_ups.event_id,
        follow_ups.event_day,
        case
            when follow_ups.exception_id is null
                then follow_ups.event_type || ' without an exception_id'
            when exception_raises.raised_at is null
                then follow_ups.event_type || ' of ' || follow_ups.exception_id || ' without its exception_raised'
            else follow_ups.event_type || ' of ' || follow_ups.exception_id || ' before its exception_raised'
        end as detail

    from flagged_events as follow_ups
    left join exception_raises
        on follow_ups.exception_id = exception_raises.exception_id
    left join telemetry_runs
        on follow_ups.workflow_id = telemetry_runs.workflow_id
        and follow_ups.run_id = telemetry_runs.run_id
    where follow_ups.event_type in ('exception_acknowledged', 'exception_resolved')
        and (
            -- the raise never arrived (unless the run itself began before the window: see edge runs)
            (exception_raises.raised_at is null and not coalesce(telemetry_runs.is_edge_run, false))
            or follow_ups.event_ts < exception_raises.raised_at
        )

),
{%- endmacro %}
