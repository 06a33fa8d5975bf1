{#- The runs as they stood at as_of (int_as_of), defined once for every mart that reads runs "as of":
    a run that started after as_of does not exist yet; one that ended after as_of is still in flight
    (final_status 'in_flight', ended_at, cycle_time_seconds and within_slo null). With the default
    as_of (the latest event) nothing ends after it, so only a pinned as_of clips. Renders the body
    of a CTE: `runs as ({{ runs_as_of(ref('fct_workflow_runs')) }})`. Incremental filters stay in
    the caller. Doc block runs_as_of in models/marts/runs/_runs__docs.md. -#}
{% macro runs_as_of(runs) -%}
select
        runs.run_key,
        runs.workflow_id,
        runs.run_id,
        runs.is_registered_workflow,
        runs.owner,
        runs.owner_team,
        runs.region,
        runs.started_at,
        case when runs.ended_at <= as_of.as_of_ts then runs.ended_at end as ended_at,
        case when runs.ended_at <= as_of.as_of_ts then runs.final_status else 'in_flight' end as final_status,
        case when runs.ended_at <= as_of.as_of_ts then runs.cycle_time_seconds end as cycle_time_seconds,
        runs.cycle_time_slo_seconds,
        case when runs.ended_at <= as_of.as_of_ts then runs.within_slo end as within_slo,
        runs.exception_count,
        runs.compute_cost_cents

    from {{ runs }} as runs
    cross join {{ ref('int_as_of') }} as as_of
    where runs.started_at <= as_of.as_of_ts
{%- endmacro %}
