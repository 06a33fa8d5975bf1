{#- One row per run x region x ISO week (UTC) with events at or before as_of: the compute cost
    and the human stage time its events record that week. The pre-aggregation of the event table
    (the big one: 10M+ rows) for agg_cost_to_serve_weekly, which joins the runs for their owner
    team on this much smaller grain. Reads staging only (no marts). Definitions: doc blocks
    compute_cost, human_actor and labor_time in models/marts/costs/_costs__docs.md.

    Incremental like int_runs_summarized (key workflow_id, run_id: every row of a touched run is
    recomputed from all its events; doc block incremental_rules in models/marts/runs/_runs__docs.md). -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

with

as_of as (

    select * from {{ ref('int_as_of') }}

),

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id']) }}

classified as (

    select
        events.workflow_id,
        events.run_id,
        events.region,
        {{ week_start('events.event_ts') }} as week_start,
        events.event_ts,
        events.loaded_at,
        events.cost_cents,
        events.duration_ms,
        -- labor part (a): a person's time on a stage; approvals (queue time) and 'system' work are not labor
        (
            events.event_type in ('stage_completed', 'stage_timed_out')
            and {{ is_human_actor('events.actor') }}
        ) as is_human_stage_event

    from scoped_events as events
    {%- if pinned_as_of() is not none %}
    -- a pinned as_of ignores the events after it (unpinned, as_of is the latest event: no filter)
    where events.event_ts <= {{ pinned_as_of() }}
    {%- endif %}

),

aggregated as (

    select
        workflow_id,
        run_id,
        region,
        week_start,

        count(*) as event_count,
        sum(coalesce(cost_cents, 0)) as compute_cost_cents,
        sum(case when is_human_stage_event then 1 else 0 end) as human_stage_event_count,
        sum(
            case when is_human_stage_event then greatest(coalesce(duration_ms, 0), 0) else 0 end
        ) as human_stage_ms,
        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at,
        max(loaded_at) as max_loaded_at

    from classified
    group by workflow_id, run_id, region, week_start

),

final as (

    select
        workflow_id,
        run_id,
        region,
        week_start,
        cast(event_count as bigint) as event_count,
        cast(compute_cost_cents as double) as compute_cost_cents,
        cast(human_stage_event_count as bigint) as human_stage_event_count,
        cast(human_stage_ms as double) / 1000.0 as human_stage_seconds,
        -- incremental bookkeeping (macros/incremental/incremental_scope.sql): the row's earliest and
        -- latest event, the latest load among them, and the pinned as_of it was cut at (null: none)
        first_event_at,
        last_event_at,
        max_loaded_at,
        case when as_of.is_pinned then as_of.as_of_ts end as as_of_cut_ts

    from aggregated
    cross join as_of

)

select * from final
