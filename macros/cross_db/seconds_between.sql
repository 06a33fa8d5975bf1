{#- Elapsed seconds from start to end (end - start) as a double, microsecond precision; negative
    when end precedes start, null when either is null. -#}
{% macro seconds_between(start_timestamp, end_timestamp) -%}
    {{ return(adapter.dispatch('seconds_between', 'command_center')(start_timestamp, end_timestamp)) }}
{%- endmacro %}

{% macro default__seconds_between(start_timestamp, end_timestamp) -%}
    cast(datediff('microsecond', {{ start_timestamp }}, {{ end_timestamp }}) as double precision) / 1000000.0
{%- endmacro %}

{% macro duckdb__seconds_between(start_timestamp, end_timestamp) -%}
    cast(date_diff('microsecond', {{ start_timestamp }}, {{ end_timestamp }}) as double) / 1000000.0
{%- endmacro %}

{% macro snowflake__seconds_between(start_timestamp, end_timestamp) -%}
    cast(timestampdiff(microsecond, {{ start_timestamp }}, {{ end_timestamp }}) as double) / 1000000.0
{%- endmacro %}
