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
