{#- One row per exception_id: what its events say, before the register is applied - when it was
    raised, first touched and resolved, by whom, in which run, class, severity and region. Events
    after as_of are ignored (the exception's state as of as_of). Rules: doc block exception_rules in
    models/marts/exceptions/_exceptions__docs.md. -#}

with

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

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
        events.actor

    from events
    cross join as_of
    where events.exception_id is not null
        and events.event_type in ('exception_raised', 'exception_acknowledged', 'exception_resolved')
        and events.event_ts <= as_of.as_of_ts

),

ranked as (

    select
        exception_events.*,

        -- the defining event: the earliest exception_raised, else the earliest event of the exception
        row_number() over (
            partition by exception_id
            order by case when event_type = 'exception_raised' then 0 else 1 end, event_ts, event_id
        ) as raise_rank,

        -- the first touch: the earliest exception_acknowledged
        row_number() over (
            partition by exception_id
            order by case when event_type = 'exception_acknowledged' then 0 else 1 end, event_ts, event_id
        ) as touch_rank,

        -- the resolution: the earliest exception_resolved
        row_number() over (
            partition by exception_id
            order by case when event_type = 'exception_resolved' then 0 else 1 end, event_ts, event_id
        ) as resolve_rank

    from exception_events

),

summarized as (

    select
        exception_id,

        max(case when raise_rank = 1 then workflow_id end) as workflow_id,
        max(case when raise_rank = 1 then run_id end) as run_id,
        max(case when raise_rank = 1 then region end) as region,
        -- class and severity: from the raise, else from any later event that carries them
        coalesce(
            max(case when raise_rank = 1 then exception_class end),
            min(exception_class)
        ) as exception_class,
        max(case when raise_rank = 1 and event_type = 'exception_raised' then severity end) as event_severity,

        max(case when event_type = 'exception_raised' then 1 else 0 end) = 1 as has_raised_event,
        max(case when raise_rank = 1 and event_type = 'exception_raised' then event_ts end) as raised_at,
        max(case when touch_rank = 1 and event_type = 'exception_acknowledged' then event_ts end) as first_touch_at,
        max(case when touch_rank = 1 and event_type = 'exception_acknowledged' then actor end) as first_touch_by,
        max(case when resolve_rank = 1 and event_type = 'exception_resolved' then event_ts end) as resolved_at,
        max(case when resolve_rank = 1 and event_type = 'exception_resolved' then actor end) as resolved_by,
        min(event_ts) as first_event_at,

        count(distinct workflow_id || '|' || run_id) as run_count,
        cast(sum(case when event_type = 'exception_raised' then 1 else 0 end) as bigint) as raised_event_count,
        cast(sum(case when event_type = 'exception_acknowledged' then 1 else 0 end) as bigint) as acknowledged_event_count,
        cast(sum(case when event_type = 'exception_resolved' then 1 else 0 end) as bigint) as resolved_event_count

    from ranked
    group by exception_id

)

select * from summarized
