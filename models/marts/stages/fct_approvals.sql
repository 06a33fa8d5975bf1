{#- One row per approval request (workflow_id, run_id, stage, request_number), plus one row per run
    x stage for decisions that answer no request (request_number 0, data_issue
    decision_without_request): requested -> granted / rejected / timed out / pending, the wait and
    the approver. Definitions: doc block approval_rules in _stages__docs.md. Incremental by run
    (macros/incremental/mart_recompute.sql): the pre_hook deletes the runs landed since the last
    build and the pending requests (their outcome moves with as_of). -#}

{%- set timeout_hours = var('approval_timeout_hours', 24) -%}
{%- if not modules.re.match('^\d+(\.\d+)?$', timeout_hours | string) or (timeout_hours | float) <= 0 -%}
    {{ exceptions.raise_compiler_error("var approval_timeout_hours must be a positive number of hours, got '" ~ timeout_hours ~ "'") }}
{%- endif -%}
{%- set timeout_seconds = (timeout_hours | float) * 3600 %}

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

timed as (

    select
        approvals.*,
        {{ timestamp_add_seconds('approvals.requested_at', timeout_seconds) }} as timeout_at,
        {{ seconds_between('approvals.requested_at', 'approvals.decided_at') }} as wait_seconds,
        build_state.as_of_ts as as_of_at

    from approvals
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
        cast({{ timeout_seconds }} as double) as timeout_seconds,
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
