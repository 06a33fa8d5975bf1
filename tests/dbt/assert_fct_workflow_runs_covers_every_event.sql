{{ config(meta={'dagster': {'ref': {'name': 'fct_workflow_runs'}}}, tags=['full_history']) }}
{#- Completeness across layers: every (workflow_id, run_id) in the staged events is exactly one
    run in fct_workflow_runs, carrying all of its events - no run dropped, none invented, no
    fan-out from the joins. Whole history (tag full_history): the weekly full check runs it; the
    nightly build runs its companion over the runs touched since the last passing check
    (assert_fct_workflow_runs_covers_every_new_event). -#}

with

event_runs as (

    select
        workflow_id,
        run_id,
        count(*) as event_count
    from {{ ref('stg_command_center__workflow_events') }}
    group by workflow_id, run_id

),

runs as (

    select
        workflow_id,
        run_id,
        event_count
    from {{ ref('fct_workflow_runs') }}

)

select
    coalesce(event_runs.workflow_id, runs.workflow_id) as workflow_id,
    coalesce(event_runs.run_id, runs.run_id) as run_id,
    event_runs.event_count as events_staged,
    runs.event_count as events_in_fct
from event_runs
full outer join runs
    on event_runs.workflow_id = runs.workflow_id
    and event_runs.run_id = runs.run_id
where event_runs.event_count is null
    or runs.event_count is null
    or event_runs.event_count <> runs.event_count
