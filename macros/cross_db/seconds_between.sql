{#- Elapsed seconds from start to end (end - start) as a double, microsecond precision; negative
    when end precedes start, null when either is null. dbt-core's datediff in microseconds. -#}
{% macro seconds_between(start_timestamp, end_timestamp) -%}
    cast({{ dbt.datediff(start_timestamp, end_timestamp, 'microsecond') }} as double) / 1000000.0
{%- endmacro %}
