{#- Incremental marts: "delete what the new data touches, then fill what is missing".

    Each incremental mart row carries the state of the build that wrote it (int_build_state):
      _loaded_through   the landing high-water mark of the event summaries (max max_loaded_at),
      _as_of_ts         the as_of it was computed at (int_as_of), _as_of_pinned whether var as_of pinned it,
      _events_from      the earliest event then in the warehouse,
      _register_sha256  the governance register it was scored with.
    Before an incremental build the pre_hook (mart_delete_recomputed) deletes
      - every row, when the register changed, when as_of is pinned now or was when rows were
        written, or when retention removed events the table was built from (the current earliest
        event is later than the table's _events_from): the build is full;
      - else, for a period mart, every period from the earliest of
          the period of the earliest event of any source row landed since _loaded_through (a late
            event of any age reopens its period: its run / exception was recomputed from all its events),
          the period of the last build's as_of (ages, breaches whose clock ran out since, month-to-date
            burn, backlog at week end move with as_of: every row before it was final when written),
          the period of the current as_of (a pinned as_of earlier than the table);
      - for a key mart (key_sources), the rows of the keys landed since _loaded_through, and the
        rows whose values move with as_of (open_rows).
    The model then computes only what is missing (mart_missing_periods_filter, or per spine key
    mart_kept_key_join + mart_kept_key_filter; mart_missing_keys_filter for a key mart) and is
    appended. Idempotent: a build that fails between the delete and the insert leaves
    rows missing, and the next build fills them. Doc block incremental_rules in
    models/marts/runs/_runs__docs.md. -#}


{#- The final columns of the state, in a model with `build_state as (select * from {{ ref('int_build_state') }})`
    cross joined into its final select. -#}
{% macro mart_build_state_columns() -%}
build_state.loaded_through as _loaded_through,
        build_state.as_of_ts as _as_of_ts,
        build_state.as_of_is_pinned as _as_of_pinned,
        build_state.events_from as _events_from,
        build_state.register_sha256 as _register_sha256
{%- endmacro %}


{#- A boolean SQL expression: this build must recompute the whole table. -#}
{% macro mart_recompute_everything() -%}
(
    -- a pinned as_of now, or rows written at a pinned as_of (an audit or backfill): everything
    (select as_of_is_pinned from {{ ref('int_build_state') }})
    or exists (select 1 from {{ this }} where _as_of_pinned)
    -- the register changed
    or exists (
        select 1 from {{ this }}
        where _register_sha256 <> (select register_sha256 from {{ ref('int_build_state') }})
    )
    -- retention deleted events the table was built from
    or (select events_from from {{ ref('int_build_state') }}) > (select min(_events_from) from {{ this }})
)
{%- endmacro %}


{#- The pre_hook of an incremental mart (a no-op on a full build): delete what this build recomputes.
    sources: the relations (with first_event_at, max_loaded_at) the mart is computed from.
    Period marts: period_column (a date column of the table) and period ('day' | 'week' | 'month').
    Key marts: key_sources, a list of (relation, columns): the rows of this table whose columns
    match a row of the relation landed since the last build are recomputed; open_rows, an optional
    condition on this table's rows whose values move with as_of (e.g. open exceptions). -#}
{% macro mart_delete_recomputed(sources=none, period_column=none, period=none, key_sources=none, open_rows=none) -%}
{%- if is_incremental() -%}
{%- if period_column is not none -%}
{%- set truncate = {'day': day_start, 'week': week_start, 'month': month_start}[period] -%}
delete from {{ this }}
where {{ mart_recompute_everything() }}
    or {{ period_column }} >= (
        {{ mart_recompute_from(sources, period) }}
    )
{%- else -%}
{#- the table's mark as a literal, read by the same query as the model's (mart_kept_loaded_through), before
    this delete; none when the table is empty or everything is recomputed (its own check): then the
    conditions read the mark and the everything check from the table -#}
{%- set mark = mart_kept_loaded_through() -%}
delete from {{ this }}
{%- if mark is none %}
where {{ mart_recompute_everything() }}
{%- else %}
-- not everything (checked with the mark, mart_kept_loaded_through): the scans of the sources are pruned to
-- the rows landed after the mark (a literal), and this table is only probed for their keys
where false
{%- endif %}
    {%- for relation, columns in key_sources %}
    -- the rows whose {{ columns | join(', ') }} landed since the table was built
    or {{ matches_query_row(columns,
        'select ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ' where max_loaded_at > '
        ~ (mark if mark is not none else '(select max(_loaded_through) from ' ~ this ~ ')')) | indent(4) }}
    {%- endfor %}
    {%- if open_rows is not none %}
    -- the rows whose values move with as_of
    or ({{ open_rows }})
    {%- endif %}
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- The SQL of the first period a period mart's pre_hook (mart_delete_recomputed) deletes from: every
    period on or after it is recomputed. One definition, also read before the pre_hook runs by
    mart_missing_periods_floor. -#}
{% macro mart_recompute_from(sources, period) -%}
{%- set truncate = {'day': day_start, 'week': week_start, 'month': month_start}[period] -%}
select min(recompute_from) from (
        {%- for source in sources %}
        -- the period of the earliest event of any row landed since the table was built
        select {{ truncate('min(first_event_at)') }} as recompute_from
        from {{ source }}
        where max_loaded_at > (select max(_loaded_through) from {{ this }})
        union all
        {%- endfor %}
        -- the period of the last build's as_of: what moved with as_of since (ages, breaches whose
        -- clock ran out, backlogs, month-to-date figures) lies in it or after it
        select {{ truncate('max(_as_of_ts)') }} as recompute_from
        from {{ this }}
        union all
        -- the period of the current as_of (a pinned as_of before the table's end)
        select {{ truncate('as_of_ts') }} as recompute_from
        from {{ ref('int_build_state') }}
    ) as candidates
{%- endmacro %}



{#- In an incremental mart's SQL: a condition keeping only the periods after the last one the table
    still has (the pre_hook deleted the recomputed ones); true on a full build. -#}
{% macro mart_missing_periods_filter(period_expression, period_column) -%}
{%- if is_incremental() -%}
    ({{ period_expression }} > (select max({{ period_column }}) from {{ this }})
        or (select max({{ period_column }}) from {{ this }}) is null)
{%- else -%}
    true
{%- endif -%}
{%- endmacro %}


{#- In an incremental key mart's SQL: a where clause keeping the rows of `relation_alias` whose key
    the table does not have (the pre_hook deleted the recomputed ones); nothing on a full build.
    watermark_column (e.g. max_loaded_at), only for a mart whose pre_hook has no open_rows: also keep
    only the rows landed after the table's mark, a literal that prunes the scan (mart_kept_loaded_through);
    with `relation` (what relation_alias names), the anti-join then looks up only those rows' keys
    among the kept ones (missing_keys_anti_join). -#}
{% macro mart_missing_keys_filter(relation_alias, key_columns, watermark_column=none, relation=none) -%}
{%- if is_incremental() -%}
    {%- set mark = mart_kept_loaded_through() if watermark_column is not none else none %}
    where
    {%- if mark is not none %}
        -- only keys landed after the kept mark can be missing (mart_kept_loaded_through)
        {{ relation_alias }}.{{ watermark_column }} > {{ mark }} and
        {{ missing_keys_anti_join(relation_alias, key_columns,
            none if relation is none else
            'select ' ~ key_columns | join(', ') ~ ' from ' ~ relation ~ ' where ' ~ watermark_column ~ ' > ' ~ mark) | indent(8) }}
    {%- else %}
        {{ missing_keys_anti_join(relation_alias, key_columns) | indent(8) }}
    {%- endif %}
{%- endif -%}
{%- endmacro %}


{#- The anti-join of the incremental key marts (mart_missing_keys_filter, pm_missing_cases_filter): true for
    a row of `relation_alias` whose key (key_columns) the table ({{ this }}) does not have. candidates: none,
    or a query of the key columns returning the key of EVERY row of relation_alias this is applied to (the
    rows landed after the table's mark), so a key of such a row is kept exactly when it is among the kept
    keys that are candidates.
      - DuckDB, with candidates: the kept keys are first restricted to the candidates (a semi-join built on
        the candidates, a night's keys, probed by the kept keys), and each row is looked up in that small
        set. `not exists` makes DuckDB build its hash table on every kept key of the history instead
        (at 10M events 0.5-0.8 s of CPU per mart, e.g. fct_activity_durations' 3.8M rows). `not
        coalesce(... in ..., false)` is true exactly where `not exists` is: a null key never matches,
        and a null among the kept keys does not make it null.
      - Without candidates (a first build after an empty table, a mart without a mark), and on Snowflake:
        `not exists`, whose anti-join the engine plans itself. -#}
{% macro missing_keys_anti_join(relation_alias, key_columns, candidates=none) -%}
    {{ return(adapter.dispatch('missing_keys_anti_join', 'command_center')(relation_alias, key_columns, candidates)) }}
{%- endmacro %}

{% macro default__missing_keys_anti_join(relation_alias, key_columns, candidates) -%}
{%- if candidates is none -%}
{{ missing_keys_not_exists(relation_alias, key_columns) }}
{%- else -%}
{%- set kept_columns = [] -%}
{%- for key in key_columns -%}{%- do kept_columns.append('kept.' ~ key) -%}{%- endfor -%}
not coalesce(
    ({% for key in key_columns %}{{ relation_alias }}.{{ key }}{{ ', ' if not loop.last }}{% endfor %}) in (
        select {{ kept_columns | join(', ') }}
        from {{ this }} as kept
        where {{ matches_query_row(kept_columns, candidates, key_columns) | indent(8) }}
    ),
    false
)
{%- endif -%}
{%- endmacro %}

{% macro snowflake__missing_keys_anti_join(relation_alias, key_columns, candidates) -%}
{{ missing_keys_not_exists(relation_alias, key_columns) }}
{%- endmacro %}

{% macro missing_keys_not_exists(relation_alias, key_columns) -%}
not exists (
    select 1
    from {{ this }} as kept
    where {% for key in key_columns %}kept.{{ key }} = {{ relation_alias }}.{{ key }}{% if not loop.last %}
        and {% endif %}{% endfor %}
)
{%- endmacro %}


{#- In an incremental mart whose spine runs from a key's first to its last active period: join this
    (as `kept`) to the spine to keep only the periods after the key's last kept period. The global
    mart_missing_periods_filter is not enough there: a key quiet for a while whose new activity
    extends its spine needs the zero rows between its last kept period and the new one, which can
    lie before the table's last period. Renders a left join, then use mart_kept_key_filter in the where. -#}
{% macro mart_kept_key_join(spine, key_columns, period_column) -%}
{%- if is_incremental() -%}
left join (
        select {{ key_columns | join(', ') }}, max({{ period_column }}) as last_kept_period
        from {{ this }}
        group by {{ key_columns | join(', ') }}
    ) as kept
        on {% for key in key_columns %}{{ spine }}.{{ key }} = kept.{{ key }}{% if not loop.last %}
        and {% endif %}{% endfor %}
{%- endif -%}
{%- endmacro %}

{% macro mart_kept_key_filter(period_expression) -%}
{%- if is_incremental() -%}
    (kept.last_kept_period is null or {{ period_expression }} > kept.last_kept_period)
{%- else -%}
    true
{%- endif -%}
{%- endmacro %}


{#- The table's max(_loaded_through) as a SQL timestamp literal, read when the model is compiled - before
    its pre_hook (mart_delete_recomputed) runs - or none: at parse, in a unit test (its `this` is a
    fixture), on an empty table, and when the pre_hook deletes every row (mart_recompute_everything).
    For a key mart with no open_rows (mart_delete_recomputed's key_sources only): the pre_hook then
    deletes exactly the keys whose source max_loaded_at is past this mark, and a key missing after a
    failed build also has one past it (the rows left hold marks no later than the last build that
    wrote rows), so `source.max_loaded_at > mark` keeps every key the table is missing; the anti-join
    after it drops the kept ones. A literal, unlike the subquery, prunes the scan by zone maps. -#}
{% macro mart_kept_loaded_through() -%}
{%- if not execute or model.resource_type == 'unit_test' -%}
    {{ return(none) }}
{%- endif -%}
{%- set rows = run_query(
    'select (select cast(max(_loaded_through) as varchar) from ' ~ this ~ ') as mark, '
    ~ mart_recompute_everything() ~ ' as everything'
).rows -%}
{%- if rows[0][0] is none or rows[0][1] -%}
    {{ return(none) }}
{%- endif -%}
{{ return("cast('" ~ rows[0][0] ~ "' as timestamp)") }}
{%- endmacro %}


{#- For an incremental period mart (pre_hook mart_delete_recomputed(sources, period_column, period)): the
    start of the first period the table will be missing once its pre_hook has run, as a SQL timestamp
    literal read when the model is compiled (before the pre_hook), or none - at parse, in a unit test,
    on a full build, on an empty table, and when the pre_hook deletes every row. The pre_hook keeps the
    periods before mart_recompute_from; mart_missing_periods_filter then computes the periods after the
    last one kept, i.e. from this literal on. So a source row's time column `>=` it is the same filter
    as the period's, written as a constant that prunes the scan by zone maps (a subquery's max() is not
    pushed into the scan). Use it beside mart_missing_periods_filter, with the pre_hook's own arguments. -#}
{% macro mart_missing_periods_floor(sources, period_column, period) -%}
{%- if not execute or model.resource_type == 'unit_test' or not is_incremental() -%}
    {{ return(none) }}
{%- endif -%}
{%- set step = {'day': ('day', 1), 'week': ('day', 7), 'month': ('month', 1)}[period] -%}
{%- set rows = run_query(
    'select cast(' ~ dbt.dateadd(step[0], step[1], 'max(' ~ period_column ~ ')') ~ ' as ' ~ dbt.type_timestamp() ~ ')'
    ~ ' from ' ~ this ~ ' where ' ~ period_column ~ ' < (' ~ mart_recompute_from(sources, period) ~ ')'
    ~ ' and not ' ~ mart_recompute_everything()
).rows -%}
{%- if rows | length == 0 or rows[0][0] is none -%}
    {{ return(none) }}
{%- endif -%}
{{ return("cast('" ~ rows[0][0] ~ "' as timestamp)") }}
{%- endmacro %}
