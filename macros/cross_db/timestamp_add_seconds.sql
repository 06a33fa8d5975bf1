{#- A timestamp plus a number of seconds (fractional, rounded to the microsecond - the precision
    of the timestamps); negative seconds go back in time, null when either is null. The inverse
    of seconds_between: seconds_between(t, timestamp_add_seconds(t, s)) = s. Our own, not dbt-core's
    dateadd('microsecond', ...): dbt-duckdb multiplies an interval by the count as a 32-bit integer,
    which overflows past 35 minutes of microseconds (known answer: 2700 s). -#}
{% macro timestamp_add_seconds(timestamp_expression, seconds_expression) -%}
    {{ return(adapter.dispatch('timestamp_add_seconds', 'command_center')(timestamp_expression, seconds_expression)) }}
{%- endmacro %}

{% macro default__timestamp_add_seconds(timestamp_expression, seconds_expression) -%}
    ({{ timestamp_expression }} + cast(round(({{ seconds_expression }}) * 1000000) as bigint) * interval '1 microsecond')
{%- endmacro %}

{% macro duckdb__timestamp_add_seconds(timestamp_expression, seconds_expression) -%}
    ({{ timestamp_expression }} + to_microseconds(cast(round(({{ seconds_expression }}) * 1000000) as bigint)))
{%- endmacro %}

{% macro snowflake__timestamp_add_seconds(timestamp_expression, seconds_expression) -%}
    dateadd(microsecond, cast(round(({{ seconds_expression }}) * 1000000) as bigint), {{ timestamp_expression }})
{%- endmacro %}
