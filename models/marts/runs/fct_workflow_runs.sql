{#- One row per run (workflow_id, run_id): the run facts of int_runs_summarized with the
    register's owner and cycle-time SLO. Definitions: _runs__docs.md.
    Incremental by run (macros/incremental/mart_recompute.sql): the pre_hook deletes the runs landed
    since the last build (every run when the register changed or retention removed events), and
    this computes the runs the table is missing. -#}

with

runs as (

    select summarized.*
    from {{ ref('int_runs_summarized') }} as summarized
    -- incremental: the runs the table is missing (the pre_hook deleted the recomputed ones)
    {{ mart_missing_keys_filter('summarized', ['workflow_id', 'run_id'], watermark_column='max_loaded_at',
        relation=ref('int_runs_summarized')) }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

workflows as (

    select * from {{ ref('dim_workflows') }}

),

owners as (

    select * from {{ ref('stg_governance__owners') }}

),

joined as (

    select
        runs.*,
        coalesce(workflows.is_registered, false) as is_registered_workflow,
        workflows.service_owner,
        workflows.owner_team as registered_owner_team,
        workflows.cycle_time_slo_seconds,
        owners.owner_team as event_owner_team,
        {{ seconds_between('runs.started_at', 'runs.ended_at') }} as cycle_time_seconds

    from runs
    left join workflows
        on runs.workflow_id = workflows.workflow_id
    left join owners
        on runs.event_owner = owners.owner

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'run_id']) }} as run_key,
        workflow_id,
        run_id,
        is_registered_workflow,

        case
            when is_registered_workflow then service_owner
            else coalesce(event_owner, 'unassigned')
        end as owner,
        case
            when is_registered_workflow then registered_owner_team
            when event_owner is not null
                then coalesce(event_owner_team, {{ dbt.split_part('event_owner', "'@'", 1) }})
            else 'unassigned'
        end as owner_team,

        region,
        started_at,
        ended_at,
        final_status,
        cycle_time_seconds,
        cycle_time_slo_seconds,
        case
            when ended_at is null or cycle_time_slo_seconds is null then null
            else cycle_time_seconds <= cycle_time_slo_seconds
        end as within_slo,

        event_count,
        retry_count,
        timeout_count,
        exception_count,
        approval_count,
        terminal_event_count,
        has_run_started,
        compute_cost_cents,
        log_format,

        {{ mart_build_state_columns() }}

    from joined
    cross join build_state

)

select * from final
