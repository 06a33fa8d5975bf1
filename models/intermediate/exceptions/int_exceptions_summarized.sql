{#- One row per exception_id: what its events say, before the register is applied - when it was
    raised, first touched and resolved, by whom, in which run, class, severity and region. Events
    after as_of are ignored (the exception's state as of as_of). Rules: doc block exception_rules in
    models/marts/exceptions/_exceptions__docs.md.

    Incremental (dbt_project.yml): a run recomputes the exceptions that newly landed events touch,
    from all of their events, and replaces them. A pinned as_of changes which events count, so a
    build with var as_of set - and the first build after one - recomputes every exception (the
    pre_hook in _int_exceptions__models.yml empties the table first). Retention: exceptions that
    lost all their events are deleted (pre_hook), those that lost some are recomputed. Doc block
    incremental_rules in models/marts/runs/_runs__docs.md. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

{%- set raise_priority = "case when event_type = 'exception_raised' then 0 else 1 end" %}

with

as_of as (

    select * from {{ ref('int_as_of') }}

),

{{ incremental_scope_ctes(ref('stg_command_center__workflow_events'), ['exception_id'], key_filter='events.exception_id is not null') }}

exception_events as (

    select
        events.exception_id,
        events.event_id,
        events.event_type,
        events.event_ts,
        events.workflow_id,
        events.run_id,
        events.region,
        events.exception_class,
        events.severity,
        events.actor,
        events.loaded_at

    from scoped_events as events
    where events.exception_id is not null
        and events.event_type in ('exception_raised', 'exception_acknowledged', 'exception_resolved')
        {%- if pinned_as_of() is not none %}
        -- a pinned as_of ignores the events after it (unpinned, as_of is the latest event: no filter)
        and events.event_ts <= {{ pinned_as_of() }}
        {%- endif %}

),

summarized as (

    -- one hash aggregate per exception: the defining event, first touch and resolution are
    -- picked with first_value_by (the first row by the stated order), not with row_number windows
    select
        exception_id,

        -- the defining event: the earliest exception_raised, else the earliest event of the exception
        {{ first_value_by('workflow_id', 'event_ts', 'event_id', priority=raise_priority) }} as workflow_id,
        {{ first_value_by('run_id', 'event_ts', 'event_id', priority=raise_priority) }} as run_id,
        {{ first_value_by('region', 'event_ts', 'event_id', priority=raise_priority) }} as region,
        -- class: the defining event's, else the first later event (same order) that carries one
        {{ first_value_by('exception_class', 'event_ts', 'event_id', priority=raise_priority) }} as exception_class,
        -- severity: the earliest exception_raised that carries one
        {{ first_value_by("case when event_type = 'exception_raised' then severity end", 'event_ts', 'event_id') }}
            as event_severity,

        max(case when event_type = 'exception_raised' then 1 else 0 end) = 1 as has_raised_event,
        min(case when event_type = 'exception_raised' then event_ts end) as raised_at,
        -- the first touch: the earliest exception_acknowledged; the resolution: the earliest exception_resolved
        min(case when event_type = 'exception_acknowledged' then event_ts end) as first_touch_at,
        {{ first_value_by("case when event_type = 'exception_acknowledged' then actor end", 'event_ts', 'event_id') }}
            as first_touch_by,
        min(case when event_type = 'exception_resolved' then event_ts end) as resolved_at,
        {{ first_value_by("case when event_type = 'exception_resolved' then actor end", 'event_ts', 'event_id') }}
            as resolved_by,
        min(event_ts) as first_event_at,
        max(event_ts) as last_event_at,

        count(distinct workflow_id || '|' || run_id) as run_count,
        cast(sum(case when event_type = 'exception_raised' then 1 else 0 end) as bigint) as raised_event_count,
        cast(sum(case when event_type = 'exception_acknowledged' then 1 else 0 end) as bigint) as acknowledged_event_count,
        cast(sum(case when event_type = 'exception_resolved' then 1 else 0 end) as bigint) as resolved_event_count,

        -- the latest load among the exception's events: the table's high-water mark is its max
        max(loaded_at) as max_loaded_at

    from exception_events
    group by exception_id

),

final as (

    select
        summarized.*,
        -- the pinned as_of the row was cut at (null: not pinned, every event counts); a row with
        -- a cut makes the next unpinned build recompute everything (pre_hook)
        case when as_of.is_pinned then as_of.as_of_ts end as as_of_cut_ts

    from summarized
    cross join as_of

)

select * from final
