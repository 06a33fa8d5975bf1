{#- One row per approval request (workflow_id, run_id, stage, request_number), plus one row per run
    x stage for decisions that answer no request (request_number 0, data_issue
    decision_without_request): requested -> granted / rejected / timed out / pending, the wait and
    the approver. Definitions: doc block approval_rules in _stages__docs.md. Incremental by run
    (macros/incremental/mart_recompute.sql): the pre_hook deletes the runs landed since the last
    build and the pending requests (their outcome moves with as_of). -#}

{#- the approval window moved to the register (approvals.timeout_hours / approvals.timeouts): the old dbt var
    must not silently stop mattering -#}
{%- if var('approval_timeout_hours', none) is not none -%}
    {{ exceptions.raise_compiler_error("var approval_timeout_hours was removed: set approvals.timeout_hours (the default) or approvals.timeouts (per workflow and stage) in the governance register") }}
{%- endif %}

with

approvals as (

    select summarized.*
    from {{ ref('int_approvals_summarized') }} as summarized
    -- incremental: the requests the table is missing (the pre_hook deleted the runs landed since and
    -- the pending requests; a run may keep its settled requests while its pending one is recomputed)
    {{ mart_missing_keys_filter('summarized', ['workflow_id', 'run_id', 'stage', 'request_number']) }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

approval_settings as (

    select * from {{ ref('stg_governance__approval_settings') }}

),

approval_timeouts as (

    select * from {{ ref('stg_governance__approval_timeouts') }}

),

-- the window: the workflow x stage row, else the workflow's row without a stage, else the register's default
windowed as (

    select
        approvals.*,
        coalesce(
            stage_timeouts.timeout_seconds,
            workflow_timeouts.timeout_seconds,
            approval_settings.default_timeout_seconds
        ) as window_seconds

    from approvals
    cross join approval_settings
    left join approval_timeouts as stage_timeouts
        on approvals.workflow_id = stage_timeouts.workflow_id
        and approvals.stage = stage_timeouts.stage
    left join approval_timeouts as workflow_timeouts
        on approvals.workflow_id = workflow_timeouts.workflow_id
        and workflow_timeouts.stage is null

),

timed as (

    select
        windowed.*,
        {{ timestamp_add_seconds('windowed.requested_at', 'windowed.window_seconds') }} as timeout_at,
        {{ seconds_between('windowed.requested_at', 'windowed.decided_at') }} as wait_seconds,
        build_state.as_of_ts as as_of_at

    from windowed
    cross join build_state

),

classified as (

    select
        timed.*,
        case
            when requested_at is null then 'unmatched'
            -- no decision within the window: a decision after it does not undo the timeout
            when decided_at is not null and decided_at <= timeout_at then decision
            when decided_at is not null or as_of_at >= timeout_at then 'timed_out'
            else 'pending'
        end as outcome

    from timed

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'run_id', 'stage', 'request_number']) }} as approval_key,
        workflow_id,
        run_id,
        stage,
        request_number,
        requested_at,
        decided_at,
        decision,
        approver,
        outcome,
        wait_seconds,
        cast(window_seconds as double) as timeout_seconds,
        timeout_at,
        -- the instant the outcome became final: the decision, or the end of the window
        case
            when outcome in ('granted', 'rejected') then decided_at
            when outcome = 'timed_out' then timeout_at
        end as settled_at,
        case
            when outcome = 'pending' then {{ seconds_between("requested_at", "as_of_at") }}
        end as pending_age_seconds,
        decision_count,
        data_issue,

        {{ mart_build_state_columns() }}

    from classified
    cross join build_state

)

select * from final
