{{ config(meta={'dagster': {'ref': {'name': 'fct_workflow_runs'}}}) }}
{#- The nightly companion of assert_fct_workflow_runs_covers_every_event (tag full_history: the weekly
    full check runs it over every run). The same comparison, for the runs touched since the last passing
    check: runs with an event loaded after the mark, and runs whose fct_workflow_runs row was written
    after it (_loaded_through later than the mark). Every event of those runs is counted, old ones
    included, so a new event a run lost or gained in fct_workflow_runs fails the night it lands; the mark
    is read once as a literal (macros/nightly/nightly_scope.sql) so the scans of the new rows are pruned. -#}

with

touched_runs as (

    select distinct
        workflow_id,
        run_id
    from {{ ref('stg_command_center__workflow_events') }}
    where {{ touched_since_last_check_literal('loaded_at') }}

    union

    select
        workflow_id,
        run_id
    from {{ ref('fct_workflow_runs') }}
    where {{ touched_since_last_check_literal('_loaded_through') }}

),

event_runs as (

    select
        events.workflow_id,
        events.run_id,
        count(*) as event_count
    from {{ ref('stg_command_center__workflow_events') }} as events
    inner join touched_runs
        on events.workflow_id = touched_runs.workflow_id
        and events.run_id = touched_runs.run_id
    group by events.workflow_id, events.run_id

),

runs as (

    select
        fct.workflow_id,
        fct.run_id,
        fct.event_count
    from {{ ref('fct_workflow_runs') }} as fct
    inner join touched_runs
        on fct.workflow_id = touched_runs.workflow_id
        and fct.run_id = touched_runs.run_id

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
