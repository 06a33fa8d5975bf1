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
    The model's rows must carry first_event_at and max_loaded_at.
    floor_source: where incremental_scan_bounds reads the touched keys' earliest events (default: this
    model; a model with no row for some keys that have events, e.g. the stage summaries, passes
    ref('int_runs_summarized') and must depend on it). -#}
{% macro incremental_scope_ctes(events, keys, key_filter=none, floor_source=none) -%}
{%- set lookback_seconds = var('incremental_load_lookback_hours', 0) | float * 3600 -%}
{%- if is_incremental() -%}
{%- set bounds = incremental_scan_bounds(events, keys, key_filter, floor_source) -%}
high_water_mark as (

    -- the latest load this table has seen (null when it is empty: everything is new); a literal
    -- when incremental_scan_bounds read it before the build, so the scan of the events below is
    -- pruned to the new loads by their zone maps (a subquery's value is not pushed into the scan)
    {%- if bounds.high_water_mark is not none %}
    select {{ bounds.high_water_mark }} as max_loaded_at
    {%- else %}
    select max(max_loaded_at) as max_loaded_at
    from {{ this }}
    {%- endif %}

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
    {%- if bounds.high_water_mark is not none %}
    where events.loaded_at > {{ timestamp_add_seconds(bounds.high_water_mark, -lookback_seconds) }}
    {%- else %}
    cross join high_water_mark
    where (
            high_water_mark.max_loaded_at is null
            or events.loaded_at > {{ timestamp_add_seconds('high_water_mark.max_loaded_at', -lookback_seconds) }}
        )
    {%- endif %}
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
    {%- if bounds.scan_floor is not none %}
    -- no event of a touched key is older than this (incremental_scan_bounds): the scan skips the
    -- older row groups by their zone maps instead of probing every event of the history
    where events.event_ts >= {{ bounds.scan_floor }}
    {%- endif %}

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


{#- Run before an incremental build of a model using incremental_scope_ctes (not at parse, not in a
    unit test, whose `this` and refs are fixtures): two SQL timestamp literals, or none each.
      high_water_mark - max(max_loaded_at) of this (none: empty table, the CTE reads it);
      scan_floor      - no event of a touched key is older: the least of the new events' event_ts
                        and the first_event_at the floor source holds for the touched keys (a key's
                        events loaded up to the mark were all summarized there). None - no floor, the
                        scan reads every event, as before - when the table is empty, when retention cut
                        a key (this has a row older than the earliest event left: the union of
                        touched_keys then reads keys the new loads did not touch), or when the floor
                        source has not summarized every load up to this table's mark.
    Only a filter the join already implies: the rows are the same with or without it. -#}
{% macro incremental_scan_bounds(events, keys, key_filter=none, floor_source=none) -%}
{%- set none_bounds = {'high_water_mark': none, 'scan_floor': none} -%}
{%- if not execute or model.resource_type == 'unit_test' or var('as_of', none) is not none -%}
    {{ return(none_bounds) }}
{%- endif -%}
{#- read before the pre_hook runs: rows cut at a pinned as_of mean the pre_hook empties the table
    (incremental_delete_stale_rows(as_of_aware=true)) and everything is recomputed -#}
{%- set has_cut = 'as_of_cut_ts' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) -%}
{%- set mark_rows = run_query(
    'select cast(max(max_loaded_at) as varchar)'
    ~ (', count(as_of_cut_ts)' if has_cut else ', 0') ~ ' from ' ~ this
) -%}
{%- set mark = mark_rows.rows[0][0] if mark_rows.rows[0][1] == 0 else none -%}
{%- if mark is none -%}
    {{ return(none_bounds) }}
{%- endif -%}
{%- set mark_literal = "cast('" ~ mark ~ "' as timestamp)" -%}
{%- set lookback_seconds = var('incremental_load_lookback_hours', 0) | float * 3600 -%}
{%- set source = floor_source if floor_source is not none else this -%}
{%- set floor_query -%}
with new_keys as (

    select {% for key in keys %}events.{{ key }}, {% endfor %}min(events.event_ts) as first_new_event_at
    from {{ events }} as events
    where events.loaded_at > {{ timestamp_add_seconds(mark_literal, -lookback_seconds) }}
        {%- if key_filter is not none %}
        and {{ key_filter }}
        {%- endif %}
    group by {% for key in keys %}events.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}

)

select
    -- (a min over a union, not least(): least() is null on Snowflake when either side is)
    (
        select cast(min(candidate_at) as varchar)
        from (
            select first_new_event_at as candidate_at from new_keys
            union all
            select floor_source.first_event_at
            from {{ source }} as floor_source
            inner join new_keys
                on {% for key in keys %}floor_source.{{ key }} = new_keys.{{ key }}{% if not loop.last %}
                and {% endif %}{% endfor %}
        ) as candidates
    ) as scan_floor,
    -- retention cut a key: its recompute reads events the new loads did not touch
    exists (
        select 1 from {{ this }}
        where first_event_at < (select min(event_ts) from {{ events }})
    ) as retention_cut,
    -- the floor source has summarized every load up to this table's mark
    coalesce((select max(max_loaded_at) from {{ source }}) >= {{ mark_literal }}, false) as source_covers
{%- endset -%}
{%- set floor_row = run_query(floor_query).rows[0] -%}
{%- if floor_row[1] or not floor_row[2] -%}
    {%- set floor_literal = none -%}
{%- elif floor_row[0] is none -%}
    {#- nothing new landed and retention cut nothing: no touched key, any floor holds -#}
    {%- set floor_literal = mark_literal -%}
{%- else -%}
    {%- set floor_literal = "cast('" ~ floor_row[0] ~ "' as timestamp)" -%}
{%- endif -%}
{{ return({'high_water_mark': mark_literal, 'scan_floor': floor_literal}) }}
{%- endmacro %}
