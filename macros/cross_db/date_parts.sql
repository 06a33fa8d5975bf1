{#- Calendar truncation of a timestamp to a date. Timestamps are UTC without offset
    (timestamp / TIMESTAMP_NTZ), so the result is the UTC calendar day, ISO week or month.
    day_start and month_start are dbt-core's date_trunc cast to a date; week_start is our own,
    because date_trunc('week') follows Snowflake's WEEK_START session parameter. -#}

{#- The UTC calendar day of a timestamp, as a date. -#}
{% macro day_start(timestamp_expression) -%}
    cast({{ dbt.date_trunc('day', timestamp_expression) }} as date)
{%- endmacro %}


{#- The Monday that starts the ISO 8601 week of a timestamp or date, as a date. Does not depend
    on session settings (Snowflake WEEK_START, locale). -#}
{% macro week_start(timestamp_expression) -%}
    {{ return(adapter.dispatch('week_start', 'command_center')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__week_start(timestamp_expression) -%}
    cast(date_trunc('week', {{ timestamp_expression }}) as date)
{%- endmacro %}

{% macro duckdb__week_start(timestamp_expression) -%}
    {#- DuckDB's date_trunc('week') is the ISO week: it always truncates to Monday. -#}
    cast(date_trunc('week', {{ timestamp_expression }}) as date)
{%- endmacro %}

{% macro snowflake__week_start(timestamp_expression) -%}
    {#- date_trunc('week') follows the WEEK_START session parameter; dayofweekiso does not. -#}
    {#- the cast keeps the result a date on engines whose dateadd returns a timestamp -#}
    cast(dateadd(day, 1 - dayofweekiso({{ timestamp_expression }}), to_date({{ timestamp_expression }})) as date)
{%- endmacro %}


{#- The first day of the calendar month of a timestamp or date, as a date. -#}
{% macro month_start(timestamp_expression) -%}
    cast({{ dbt.date_trunc('month', timestamp_expression) }} as date)
{%- endmacro %}
