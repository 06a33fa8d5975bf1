{#- One row: the state a build of the incremental marts reflects - the landing high-water mark of the
    event summaries, the as_of, the earliest event left in the warehouse and the register version.
    Every incremental mart row carries it (as _loaded_through, _as_of_ts, _events_from,
    _register_sha256), and the marts' pre_hook compares it with the current one to decide what to
    recompute (macros/incremental/mart_recompute.sql; doc block incremental_rules). -#}

with

as_of as (

    select * from {{ ref('int_as_of') }}

),

summaries as (

    -- every event belongs to a run: the run summary bounds the events; the others can only be
    -- as new (max_loaded_at), never older
    select max(max_loaded_at) as max_loaded_at, min(first_event_at) as first_event_at
    from {{ ref('int_runs_summarized') }}

    union all

    select max(max_loaded_at) as max_loaded_at, min(first_event_at) as first_event_at
    from {{ ref('int_exceptions_summarized') }}

    union all

    select max(max_loaded_at) as max_loaded_at, min(first_event_at) as first_event_at
    from {{ ref('int_run_week_costs_aggregated') }}

),

register_versions as (

    select * from {{ ref('stg_governance__register_versions') }}

),

final as (

    select
        (select max(max_loaded_at) from summaries) as loaded_through,
        as_of.as_of_ts,
        as_of.is_pinned as as_of_is_pinned,
        (select min(first_event_at) from summaries) as events_from,
        (
            select max(register_versions.register_sha256)
            from register_versions
            where register_versions.loaded_at = (select max(latest.loaded_at) from register_versions as latest)
        ) as register_sha256

    from as_of

)

select * from final
