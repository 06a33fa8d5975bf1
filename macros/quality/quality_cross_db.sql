{#- Engine-specific pieces of the log-completeness checks (macros/quality/log_completeness/log_completeness_violations.sql).
    Everything else in the checks is portable SQL or uses the macros in macros/cross_db/. -#}

{#- The current instant as a UTC timestamp without offset (timestamp / TIMESTAMP_NTZ), whatever the
    session time zone. -#}
{% macro current_timestamp_utc() -%}
    {{ return(adapter.dispatch('current_timestamp_utc', 'command_center')()) }}
{%- endmacro %}

{% macro default__current_timestamp_utc() -%}
    {#- assumes the session runs in UTC (profiles.yml sets TimeZone UTC on DuckDB) -#}
    cast(current_timestamp as timestamp)
{%- endmacro %}

{% macro duckdb__current_timestamp_utc() -%}
    {#- current_timestamp is a TIMESTAMP WITH TIME ZONE; timezone('UTC', ...) gives its UTC wall clock -#}
    cast(timezone('UTC', current_timestamp) as timestamp)
{%- endmacro %}

{% macro snowflake__current_timestamp_utc() -%}
    cast(convert_timezone('UTC', current_timestamp()) as timestamp_ntz)
{%- endmacro %}


{#- A date plus a whole number of days (negative: earlier), as a date: dbt-core's dateadd. -#}
{% macro add_days(date_expression, days) -%}
    cast({{ dbt.dateadd('day', days, 'cast(' ~ date_expression ~ ' as date)') }} as date)
{%- endmacro %}
