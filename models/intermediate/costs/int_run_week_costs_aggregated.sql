{#- One row per run x region x ISO week (UTC) with events at or before as_of: the compute cost
    and the human stage time its events record that week. The pre-aggregation of the event table
    (the big one: 10M+ rows) for agg_cost_to_serve_weekly, which joins the runs for their owner
    team on this much smaller grain. Reads staging only (no marts). Definitions: doc blocks
    compute_cost, human_actor and labor_time in models/marts/costs/_costs__docs.md. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

with

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

classified as (

    select
        events.workflow_id,
        events.run_id,
        events.region,
        {{ week_start('events.event_ts') }} as week_start,
        events.cost_cents,
        events.duration_ms,
        -- labor part (a): a person's time on a stage; approvals (queue time) and 'system' work are not labor
        (
            events.event_type in ('stage_completed', 'stage_timed_out')
            and {{ is_human_actor('events.actor') }}
        ) as is_human_stage_event

    from events
    cross join as_of
    where events.event_ts <= as_of.as_of_ts

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
        ) as human_stage_ms

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
        cast(human_stage_ms as double) / 1000.0 as human_stage_seconds

    from aggregated

)

select * from final
