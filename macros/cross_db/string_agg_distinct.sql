{#- The distinct non-null values of an expression, sorted and joined with a delimiter: an
    aggregate (use it in a group by). Returns null for a group with no non-null values. -#}
{% macro string_agg_distinct(expression, delimiter=',') -%}
    {{ return(adapter.dispatch('string_agg_distinct', 'command_center')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__string_agg_distinct(expression, delimiter) -%}
    listagg(distinct {{ expression }}, '{{ delimiter }}') within group (order by {{ expression }})
{%- endmacro %}

{#- DuckDB: a plain list() deduplicated and sorted per group, not string_agg(distinct ... order by
    ...): DuckDB's ordered and distinct aggregates cannot spill (see string_agg_ordered). -#}
{% macro duckdb__string_agg_distinct(expression, delimiter) -%}
    array_to_string(
        list_sort(list_distinct(list({{ expression }}) filter (where {{ expression }} is not null))),
        '{{ delimiter }}'
    )
{%- endmacro %}

{% macro snowflake__string_agg_distinct(expression, delimiter) -%}
    listagg(distinct {{ expression }}, '{{ delimiter }}') within group (order by {{ expression }})
{%- endmacro %}
