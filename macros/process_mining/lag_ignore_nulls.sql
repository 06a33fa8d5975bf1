{#- The previous non-null value of an expression in the window's order: the start of a window
    function call, to be followed by `over (partition by ... order by ...)`. DuckDB spells it
    lag(expr ignore nulls); Snowflake and default lag(expr) ignore nulls. -#}
{% macro lag_ignore_nulls(expression) -%}
    {{ return(adapter.dispatch('lag_ignore_nulls', 'command_center')(expression)) }}
{%- endmacro %}

{% macro default__lag_ignore_nulls(expression) -%}
    lag({{ expression }}) ignore nulls
{%- endmacro %}

{% macro duckdb__lag_ignore_nulls(expression) -%}
    lag({{ expression }} ignore nulls)
{%- endmacro %}
