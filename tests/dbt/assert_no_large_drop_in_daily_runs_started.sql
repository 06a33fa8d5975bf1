{{ config(severity='warn') }}
{#- Volume guard: the most recent complete UTC day (the newest day may still be filling) started
    at least half as many runs, over all workflows, as the average of the 7 days before it.
    Needs 9 days of history; a warning, since a quiet day can be real. A feed that stops
    altogether is the job of source freshness (dbt source freshness), not of this test. -#}

with

daily as (

    select
        day,
        sum(runs_started) as runs_started
    from {{ ref('agg_workflow_daily') }}
    group by day

),

ranked as (

    select
        day,
        runs_started,
        row_number() over (order by day desc) as days_back
    from daily

),

latest_complete_day as (

    select day, runs_started
    from ranked
    where days_back = 2

),

baseline as (

    select
        avg(runs_started) as avg_runs_started,
        count(*) as days_in_baseline
    from ranked
    where days_back between 3 and 9

)

select
    latest_complete_day.day,
    latest_complete_day.runs_started,
    baseline.avg_runs_started
from latest_complete_day
cross join baseline
where baseline.days_in_baseline = 7
    and latest_complete_day.runs_started < 0.5 * baseline.avg_runs_started
