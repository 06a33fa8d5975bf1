{#- The incremental scope shared by the models that read the events and group them by a key
    (int_runs_summarized, int_exceptions_summarized, int_run_week_costs_aggregated). Rules: doc
    block incremental_rules in models/marts/runs/_runs__docs.md.

    incremental_scope_ctes renders, inside a model's `with`, the CTEs
      high_water_mark  - the latest loaded_at this table has seen (max of its max_loaded_at column);
      touched_keys     - every key with an event landed AFTER the high-water mark (less
                         var incremental_load_lookback_hours, default 0), whatever the event's own
                         event_ts, plus every key whose row starts before the earliest event left
                         (retention purged some of its events);
      scoped_events    - ALL the events of the touched keys, old and new (a full build: all events),
    so a late or out-of-order event of any age recomputes its key from everything the key has.
    events: the events relation (ref of stg_command_center__workflow_events), read directly in each
    CTE - not a CTE of the model: a CTE read three times is materialized whole by DuckDB (every
    column of every event: 2 s and GBs at 10M) before the filter on loaded_at could cut it;
    keys: the key columns; key_filter: an optional condition on events (e.g. "exception_id is not null").
    The model's rows must carry first_event_at and max_loaded_at. -#}
{% macro incremental_scope_ctes(events, keys, key_filter=none) -%}
{%- set lookback_seconds = var('incremental_load_lookback_hours', 0) | float * 3600 -%}
{%- if is_incremental() -%}
high_water_mark as (

    -- the latest load this table has seen (null when it is empty: everything is new)
    select max(max_loaded_at) as max_loaded_at
    from {{ this }}

),

retention_boundary as (

    -- the earliest event still in the warehouse: retention deletes events older than a cutoff
    select min(event_ts) as earliest_event_at
    from {{ events }}

),

touched_keys as (

    -- every key with an event landed since the high-water mark, whatever the event's own event_ts.
    -- Strictly after it: landing is one writer at a time, each load's loaded_at is its landing
    -- clock, so a load at the mark is already in the table (a lookback re-reads earlier loads for
    -- clocks that may step back)
    select distinct
        {% for key in keys %}events.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}

    from {{ events }} as events
    cross join high_water_mark
    where (
            high_water_mark.max_loaded_at is null
            or events.loaded_at > {{ timestamp_add_seconds('high_water_mark.max_loaded_at', -lookback_seconds) }}
        )
        {%- if key_filter is not none %}
        and {{ key_filter }}
        {%- endif %}

    union

    -- every key that lost its earliest events to retention (keys that lost all of them are
    -- deleted by the pre_hook incremental_delete_stale_rows)
    select
        {% for key in keys %}existing.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}

    from {{ this }} as existing
    cross join retention_boundary
    where existing.first_event_at < retention_boundary.earliest_event_at

),

scoped_events as (

    -- all the events of the touched keys, old and new
    select events.*

    from {{ events }} as events
    inner join touched_keys
        on {% for key in keys %}events.{{ key }} = touched_keys.{{ key }}{% if not loop.last %}
        and {% endif %}{% endfor %}

),
{%- else -%}
scoped_events as (

    select * from {{ events }}

),
{%- endif %}
{%- endmacro %}


{#- The pre_hook of those models: before an incremental run, delete the rows whose every event
    retention deleted (their last event is older than the earliest event left) and, with
    as_of_aware, every row when var as_of is pinned or when the rows were cut at a pinned as_of
    (as_of_cut_ts): the model then recomputes everything (high-water mark null). -#}
{% macro incremental_delete_stale_rows(as_of_aware=false) -%}
{%- if is_incremental() -%}
delete from {{ this }}
where last_event_at < (select min(event_ts) from {{ ref('stg_command_center__workflow_events') }})
{%- if as_of_aware %}
    or {{ 'true' if var('as_of', none) is not none else 'as_of_cut_ts is not null' }}
{%- endif %}
{%- endif -%}
{%- endmacro %}


{#- The pinned as_of (dbt var as_of, validated ISO 8601 UTC) as a SQL timestamp literal, or none
    when as_of is not pinned. int_as_of is the one place "as of" is defined; the event-reading models
    filter `event_ts <= {{ pinned_as_of() }}` only when it is pinned - unpinned, as_of is the latest
    event_ts and the filter is a no-op, and a constant keeps DuckDB's join order right (a filter on
    the one-row int_as_of made it estimate ~200 events and hash the whole event table at 10M). -#}
{% macro pinned_as_of() -%}
{%- set as_of = var('as_of', none) -%}
{%- if as_of is none -%}
    {{ return(none) }}
{%- endif -%}
{%- if not modules.re.match('^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$', as_of | string) -%}
    {{ exceptions.raise_compiler_error("var as_of must be an ISO 8601 UTC timestamp like '2026-11-16 06:00:00', got " ~ (as_of | string)) }}
{%- endif -%}
{{ return("cast('" ~ (as_of | string | replace('T', ' ')) ~ "' as timestamp)") }}
{%- endmacro %}
