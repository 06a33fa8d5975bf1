{#- The values of an expression joined with a delimiter in the order of order_by (duplicates kept):
    an aggregate (use it in a group by). The order must be total (end it with a unique column) so the
    result is deterministic. DuckDB string_agg(... order by ...); Snowflake and default listagg ...
    within group (order by ...). -#}
{% macro string_agg_ordered(expression, order_by, delimiter) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'command_center')(expression, order_by, delimiter)) }}
{%- endmacro %}

{% macro default__string_agg_ordered(expression, order_by, delimiter) -%}
    listagg({{ expression }}, '{{ delimiter }}') within group (order by {{ order_by }})
{%- endmacro %}

{% macro duckdb__string_agg_ordered(expression, order_by, delimiter) -%}
    string_agg({{ expression }}, '{{ delimiter }}' order by {{ order_by }})
{%- endmacro %}

{% macro snowflake__string_agg_ordered(expression, order_by, delimiter) -%}
    listagg({{ expression }}, '{{ delimiter }}') within group (order by {{ order_by }})
{%- endmacro %}
