{{ config(meta={'dagster': {'ref': {'name': 'agg_workflow_weekly'}}}) }}
{#- The daily and weekly aggregates add up to fct_workflow_runs: every run is started once, every
    ended run ends once, and cost is not lost or double-counted by the period attribution or the
    spine. (Percentiles are checked by unit tests: they do not add.) -#}

with

runs as (

    select
        count(*) as runs_started,
        sum(case when final_status = 'completed' then 1 else 0 end) as runs_completed,
        sum(case when final_status = 'failed' then 1 else 0 end) as runs_failed,
        sum(case when final_status = 'compensated' then 1 else 0 end) as runs_compensated,
        sum(case when final_status = 'completed' and within_slo then 1 else 0 end) as runs_within_slo,
        sum(case when ended_at is not null then compute_cost_cents else 0 end) as compute_cost_cents
    from {{ ref('fct_workflow_runs') }}

),

{% for grain in ['daily', 'weekly'] %}
{{ grain }} as (

    select
        '{{ grain }}' as grain,
        sum(runs_started) as runs_started,
        sum(runs_completed) as runs_completed,
        sum(runs_failed) as runs_failed,
        sum(runs_compensated) as runs_compensated,
        sum(runs_within_slo) as runs_within_slo,
        sum(compute_cost_cents) as compute_cost_cents
    from {{ ref('agg_workflow_' ~ grain) }}

),
{% endfor %}

aggregates as (

    select * from daily
    union all
    select * from weekly

)

select
    aggregates.grain,
    aggregates.runs_started,
    runs.runs_started as fct_runs_started,
    aggregates.runs_completed,
    runs.runs_completed as fct_runs_completed,
    aggregates.compute_cost_cents,
    runs.compute_cost_cents as fct_compute_cost_cents
from aggregates
cross join runs
where coalesce(aggregates.runs_started, 0) <> runs.runs_started
    or coalesce(aggregates.runs_completed, 0) <> coalesce(runs.runs_completed, 0)
    or coalesce(aggregates.runs_failed, 0) <> coalesce(runs.runs_failed, 0)
    or coalesce(aggregates.runs_compensated, 0) <> coalesce(runs.runs_compensated, 0)
    or coalesce(aggregates.runs_within_slo, 0) <> coalesce(runs.runs_within_slo, 0)
    -- float sums in a different order differ in the last bits: at 10M events (about 1e8 cents) an
    -- absolute 1e-6 is below double precision, so the tolerance is relative (1e-9), floored at 1e-6
    or abs(coalesce(aggregates.compute_cost_cents, 0) - coalesce(runs.compute_cost_cents, 0))
        > greatest(0.000001, 0.000000001 * abs(coalesce(runs.compute_cost_cents, 0)))
