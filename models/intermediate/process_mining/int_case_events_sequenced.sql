{#- One row per event of a case (a case = a run: workflow_id, run_id), with its activity, its
    lifecycle transition and its place in the case's total order. The definitions (activity,
    lifecycle, the order, activity instances): doc blocks pm_activity, pm_lifecycle, pm_event_order in
    models/marts/process_mining/_process_mining__docs.md. Every process-mining mart reads this model
    and nothing else from the events.

    Incremental (dbt_project.yml, delete+insert on the case): a build recomputes the cases that newly
    landed events touch, from all of their events (macros/incremental/incremental_scope.sql), so a
    late event renumbers its whole case. The case-level first_event_at / last_event_at / max_loaded_at
    on every row are what the incremental scope and the marts' pre_hooks read. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)
-- depends_on: {{ ref('int_runs_summarized') }}
-- (the incremental scan's floor source, not read by a full build)

with

{#- (the scan floor of the touched runs is read from the run summaries, one row per run, not from
    this table's every event: incremental_scan_bounds, floor_source) #}
{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id'], floor_source=ref('int_runs_summarized')) }}

classified as (

    select
        workflow_id,
        run_id,
        event_id,
        log_format,
        event_type,
        event_ts,
        load_id,
        source_row_number,
        loaded_at,
        case
            when log_format = 'telemetry' then
                case
                    when event_type in ('stage_started', 'stage_completed') then coalesce(stage, event_type)
                    else event_type
                end
            else coalesce(source_event_name, stage, event_type)
        end as activity,
        case
            when log_format = 'telemetry' then
                case when event_type = 'stage_started' then 'start' else 'complete' end
            else coalesce(lower({{ json_get_text('attributes', 'lifecycle:transition') }}), 'complete')
        end as lifecycle

    from scoped_events
    {%- if pinned_as_of() is not none %}
    where event_ts <= {{ pinned_as_of() }}
    {%- endif %}

),

ordered as (

    -- ONE window pass: every window below has the same partition and order (the case's total order:
    -- event_ts, then the load (loaded_at, load_id), then the row in the file (source_row_number),
    -- then event_id), so the events are sorted once. The activity instances (lifecycle 'complete')
    -- are numbered by a running count of instances and see the instance before them with a lag
    -- that skips the other transitions (ignore nulls) - no second window over the instances.
    -- Written out in full each time: Snowflake has no named windows.
    select
        classified.*,
        row_number() over (
            partition by workflow_id, run_id
            order by event_ts, loaded_at, load_id, source_row_number, event_id
        ) as event_seq,
        case when lifecycle = 'complete' then
            count(case when lifecycle = 'complete' then 1 end) over (
                partition by workflow_id, run_id
                order by event_ts, loaded_at, load_id, source_row_number, event_id
                rows between unbounded preceding and current row
            )
        end as activity_seq,
        case when lifecycle = 'complete' then
            {{ lag_ignore_nulls("case when lifecycle = 'complete' then activity end") }} over (
                partition by workflow_id, run_id
                order by event_ts, loaded_at, load_id, source_row_number, event_id
            )
        end as previous_activity,
        case when lifecycle = 'complete' then
            {{ lag_ignore_nulls("case when lifecycle = 'complete' then event_ts end") }} over (
                partition by workflow_id, run_id
                order by event_ts, loaded_at, load_id, source_row_number, event_id
            )
        end as previous_activity_ts,
        min(event_ts) over (partition by workflow_id, run_id) as first_event_at,
        max(event_ts) over (partition by workflow_id, run_id) as last_event_at,
        max(loaded_at) over (partition by workflow_id, run_id) as max_loaded_at,
        count(case when lifecycle = 'complete' then 1 end) over (partition by workflow_id, run_id)
            as case_activity_count

    from classified

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

final as (

    select
        ordered.workflow_id,
        ordered.run_id,
        -- the process-mining name of the run: the marts' key is (workflow_id, case_id)
        ordered.run_id as case_id,
        ordered.event_id,
        ordered.log_format,
        ordered.event_type,
        ordered.activity,
        ordered.lifecycle,
        ordered.event_ts,
        cast(ordered.event_seq as bigint) as event_seq,
        ordered.lifecycle = 'complete' as is_activity_instance,
        cast(ordered.activity_seq as bigint) as activity_seq,
        ordered.previous_activity,
        ordered.previous_activity_ts,
        coalesce(ordered.activity_seq = ordered.case_activity_count, false) as is_last_activity,
        cast(ordered.case_activity_count as bigint) as case_activity_count,
        ordered.first_event_at,
        ordered.last_event_at,
        ordered.loaded_at,
        ordered.max_loaded_at,
        -- the pinned as_of the case was cut at (null unpinned): the next unpinned build recomputes all
        case when as_of.is_pinned then as_of.as_of_ts end as as_of_cut_ts

    from ordered
    cross join as_of

)

select * from final
