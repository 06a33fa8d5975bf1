{#- The nightly checks' scope as literals, computed once at run time (run_query) so DuckDB prunes the
    10M-row event scans with zone maps: a filter on a subquery's max() is not always pushed into the
    scan, a constant is. Doc: docs/benchmarks.md, "The nightly build". -#}


{#- The last recorded checked_through as a SQL timestamp literal, or none when no check has passed
    yet (then every row is touched). -#}
{% macro checked_watermark_literal() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set relation = checked_watermark_relation() -%}
    {#- (missing when no on-run-start hook ran yet, e.g. `dbt compile` or `dbt docs generate` on a new warehouse) -#}
    {%- if adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query("select cast(max(checked_through) as varchar) from " ~ relation) -%}
    {%- set mark = rows.columns[0].values()[0] if rows and rows.rows | length > 0 else none -%}
    {%- if mark is none -%}{{ return(none) }}{%- endif -%}
    {{ return("cast('" ~ mark ~ "' as timestamp)") }}
{%- endmacro %}


{#- SQL condition, like touched_since_last_check, with the mark as a literal (zone maps prune on it). -#}
{% macro touched_since_last_check_literal(watermark_column) -%}
    {%- set mark = checked_watermark_literal() -%}
    {%- if mark is none -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return('(' ~ watermark_column ~ ' is null or ' ~ watermark_column ~ ' > ' ~ mark ~ ')') }}
{%- endmacro %}


{#- The ledger gate's nightly scope (int_load_ledger_mismatches and its pre_hook): the loads landed
    since the last passing check, by the ledger's loaded_at or by their events' loaded_at (events of a
    load the ledger lacks). Returns an SQL condition on load_column: `true` when no check has passed
    yet (every load), else `load_column in (<the loads>)` (`false` when none landed). -#}
{% macro ledger_gate_nightly_load_filter(load_column) -%}
    {%- if not execute -%}{{ return('true') }}{%- endif -%}
    {%- set mark = checked_watermark_literal() -%}
    {%- if mark is none -%}{{ return('true') }}{%- endif -%}
    {%- set rows = run_query(
        "select load_id from " ~ ref('stg_command_center__load_ledger')
        ~ " where loaded_at is null or loaded_at > " ~ mark
        ~ " union select load_id from " ~ ref('stg_command_center__workflow_events')
        ~ " where loaded_at is null or loaded_at > " ~ mark
        ~ " order by 1"
    ) -%}
    {%- set load_ids = rows.columns[0].values() | reject('none') | list -%}
    {%- if load_ids | length == 0 -%}{{ return('false') }}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for load_id in load_ids -%}
        {%- do quoted.append("'" ~ (load_id | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return(load_column ~ ' in (' ~ quoted | join(', ') ~ ')') }}
{%- endmacro %}


{#- SQL condition for the nightly grain companions: the row shares `scope` (a list of columns) with a row
    of `touched` (a CTE selecting the distinct scope columns of the rows touched since the last passing
    check), or has a null in one of them. A semi-join on the columns themselves (matches_query_row: DuckDB
    `(columns) in (select ...)`, Snowflake a correlated count), which DuckDB prunes with the touched keys'
    bounds: 2-3x faster at 10M than comparing one hash of the columns (computed for every row) or joining
    with `is not distinct from`. A semi-join never matches a null, so every row with a null scope column
    is in scope too (a superset: the companion still fails exactly on the repeated combinations among the
    rows in scope; key columns are not null anyway, test_manifest_conventions.py). -#}
{% macro rows_sharing_touched_scope(scope, touched='touched') -%}
({{ matches_query_row(scope, 'select ' ~ scope | join(', ') ~ ' from ' ~ touched) }}
{%- for column in scope %}
    or {{ column }} is null
{%- endfor %})
{%- endmacro %}
