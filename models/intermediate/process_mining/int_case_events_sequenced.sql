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

with

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id']) }}

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

    select
        classified.*,
        -- the case's total order: event_ts, then the load (loaded_at, load_id), then the row in the
        -- file (source_row_number), then event_id
        row_number() over (
            partition by workflow_id, run_id
            order by event_ts, loaded_at, load_id, source_row_number, event_id
        ) as event_seq,
        min(event_ts) over (partition by workflow_id, run_id) as first_event_at,
        max(event_ts) over (partition by workflow_id, run_id) as last_event_at,
        max(loaded_at) over (partition by workflow_id, run_id) as max_loaded_at,
        sum(case when lifecycle = 'complete' then 1 else 0 end) over (partition by workflow_id, run_id)
            as case_activity_count

    from classified

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

sequenced as (

    -- the activity instances (lifecycle 'complete', atomic events included), numbered among themselves
    -- and each with the instance before it; then the other transitions, without those columns. One
    -- union instead of a join back to the events: a 3-key join of every event cost ~20% at 1M.
    select
        ordered.*,
        row_number() over (partition by workflow_id, run_id order by event_seq) as activity_seq,
        lag(activity) over (partition by workflow_id, run_id order by event_seq) as previous_activity,
        lag(event_ts) over (partition by workflow_id, run_id order by event_seq) as previous_activity_ts

    from ordered
    where lifecycle = 'complete'

    union all

    select
        ordered.*,
        cast(null as bigint) as activity_seq,
        cast(null as {{ dbt.type_string() }}) as previous_activity,
        cast(null as timestamp) as previous_activity_ts

    from ordered
    where lifecycle <> 'complete'

),

final as (

    select
        sequenced.workflow_id,
        sequenced.run_id,
        -- the process-mining name of the run: the marts' key is (workflow_id, case_id)
        sequenced.run_id as case_id,
        sequenced.event_id,
        sequenced.log_format,
        sequenced.event_type,
        sequenced.activity,
        sequenced.lifecycle,
        sequenced.event_ts,
        cast(sequenced.event_seq as bigint) as event_seq,
        sequenced.lifecycle = 'complete' as is_activity_instance,
        cast(sequenced.activity_seq as bigint) as activity_seq,
        sequenced.previous_activity,
        sequenced.previous_activity_ts,
        coalesce(sequenced.activity_seq = sequenced.case_activity_count, false) as is_last_activity,
        cast(sequenced.case_activity_count as bigint) as case_activity_count,
        sequenced.first_event_at,
        sequenced.last_event_at,
        sequenced.loaded_at,
        sequenced.max_loaded_at,
        -- the pinned as_of the case was cut at (null unpinned): the next unpinned build recomputes all
        case when as_of.is_pinned then as_of.as_of_ts end as as_of_cut_ts

    from sequenced
    cross join as_of

)

select * from final
