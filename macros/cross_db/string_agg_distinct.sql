{#- The distinct non-null values of an expression, sorted and joined with a delimiter: an
    aggregate (use it in a group by). Returns null for a group with no non-null values. -#}
{% macro string_agg_distinct(expression, delimiter=',') -%}
    {{ return(adapter.dispatch('string_agg_distinct', 'command_center')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__string_agg_distinct(expression, delimiter) -%}
    listagg(distinct {{ expression }}, '{{ delimiter }}') within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__string_agg_distinct(expression, delimiter) -%}
    string_agg(distinct {{ expression }}, '{{ delimiter }}' order by {{ expression }})
{%- endmacro %}

{% macro snowflake__string_agg_distinct(expression, delimiter) -%}
    listagg(distinct {{ expression }}, '{{ delimiter }}') within group (order by {{ expression }})
{%- endmacro %}
