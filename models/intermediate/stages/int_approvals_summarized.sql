{#- One row per approval request (workflow_id, run_id, stage, request_number): when it was requested,
    the first decision that answers it, who decided, and a reason code for approval events that
    answer no request. The rules: doc block approval_rules in models/marts/stages/_stages__docs.md.
    Incremental by run, like int_runs_summarized (a touched run is recomputed from all its events). -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

with

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['workflow_id', 'run_id'], floor_source=ref('int_runs_summarized')) }}

run_bounds as (

    {{ run_event_bounds(ref('int_runs_summarized')) }}

),

approval_events as (

    select
        workflow_id,
        run_id,
        -- an approval names the stage it gates; one without a stage is grouped under '(none)'
        coalesce(stage, '(none)') as stage,  -- noqa: RF04
        event_id,
        event_type,
        event_ts,
        actor

    from scoped_events
    where event_type in ('approval_requested', 'approval_granted', 'approval_rejected')

),

requests as (

    -- the n-th request of a run's stage; it is open until the next request of that stage
    select
        workflow_id,
        run_id,
        stage,
        event_ts as requested_at,
        row_number() over (partition by workflow_id, run_id, stage order by event_ts, event_id) as request_number,
        lead(event_ts) over (partition by workflow_id, run_id, stage order by event_ts, event_id) as next_requested_at

    from approval_events
    where event_type = 'approval_requested'

),

decisions as (

    -- each decision answers the latest request of its stage at or before it
    select
        decisions.workflow_id,
        decisions.run_id,
        decisions.stage,
        decisions.event_id,
        decisions.event_type,
        decisions.event_ts,
        decisions.actor,
        requests.request_number

    from approval_events as decisions
    left join requests
        on decisions.workflow_id = requests.workflow_id
        and decisions.run_id = requests.run_id
        and decisions.stage = requests.stage
        and requests.requested_at <= decisions.event_ts
        and (requests.next_requested_at is null or decisions.event_ts < requests.next_requested_at)
    where decisions.event_type in ('approval_granted', 'approval_rejected')

),

answered as (

    select
        workflow_id,
        run_id,
        stage,
        -- 0: the decisions of the stage that answer no request (reason code decision_without_request)
        coalesce(request_number, 0) as request_number,
        min(event_ts) as decided_at,
        {{ first_value_by("replace(event_type, 'approval_', '')", 'event_ts', 'event_id') }} as decision,
        {{ first_value_by("coalesce(actor, '(unknown)')", 'event_ts', 'event_id') }} as approver,
        count(*) as decision_count

    from decisions
    group by workflow_id, run_id, stage, coalesce(request_number, 0)

),

combined as (

    select
        requests.workflow_id,
        requests.run_id,
        requests.stage,
        requests.request_number,
        requests.requested_at,
        answered.decided_at,
        answered.decision,
        answered.approver,
        coalesce(answered.decision_count, 0) as decision_count

    from requests
    left join answered
        on requests.workflow_id = answered.workflow_id
        and requests.run_id = answered.run_id
        and requests.stage = answered.stage
        and requests.request_number = answered.request_number

    union all

    select
        workflow_id,
        run_id,
        stage,
        request_number,
        cast(null as timestamp) as requested_at,
        decided_at,
        decision,
        approver,
        decision_count

    from answered
    where request_number = 0

),

final as (

    select
        combined.workflow_id,
        combined.run_id,
        combined.stage,
        cast(combined.request_number as integer) as request_number,
        combined.requested_at,
        combined.decided_at,
        combined.decision,
        combined.approver,
        cast(combined.decision_count as bigint) as decision_count,
        case
            when combined.request_number = 0 then 'decision_without_request'
            when combined.decision_count > 1 then 'multiple_decisions'
        end as data_issue,
        run_bounds.first_event_at,
        run_bounds.last_event_at,
        run_bounds.max_loaded_at

    from combined
    inner join run_bounds
        on combined.workflow_id = run_bounds.workflow_id
        and combined.run_id = run_bounds.run_id

)

select * from final
