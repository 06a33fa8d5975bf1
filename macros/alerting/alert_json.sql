{#- JSON text helpers for the alerting marts (evidence objects): a JSON string literal of a text
    expression (backslash and double quote escaped, control characters replaced by a space; null ->
    null) and a JSON number of a numeric expression (3 decimals, alert_number_text; null -> null). Both
    engines: chr() and replace() only, no backslash in a SQL literal (Snowflake escapes with it). -#}
{% macro alert_json_string(expression) -%}
    coalesce(
        '"' || replace(replace(replace(replace(replace(cast({{ expression }} as {{ dbt.type_string() }}),
            chr(92), chr(92) || chr(92)), chr(34), chr(92) || chr(34)), chr(10), ' '), chr(13), ' '), chr(9), ' ')
        || '"',
        'null'
    )
{%- endmacro %}

{% macro alert_json_number(expression) -%}
    coalesce({{ alert_number_text(expression, 3) }}, 'null')
{%- endmacro %}

{#- A JSON object from (key, json_value_sql) pairs, keys written as given (plain identifiers). -#}
{% macro alert_json_object(pairs) -%}
    '{'
    {%- for key, value in pairs %}
    || '{{ "," if not loop.first else "" }}"{{ key }}":' || {{ value }}
    {%- endfor %}
    || '}'
{%- endmacro %}

{#- The severity of an alert from an exception severity (1 = highest): sev1 pages, sev2 tickets, others info. -#}
{% macro alert_severity_from_sev(sev_expression) -%}
    case
        when {{ sev_expression }} = 1 then 'page'
        when {{ sev_expression }} = 2 then 'ticket'
        else 'info'
    end
{%- endmacro %}

{#- A UTC timestamp (no offset) as local wall-clock time in an IANA zone (a SQL expression), and back. -#}
{% macro utc_to_local(timestamp_expression, zone_expression) -%}
    {{ return(adapter.dispatch('utc_to_local', 'command_center')(timestamp_expression, zone_expression)) }}
{%- endmacro %}

{% macro default__utc_to_local(timestamp_expression, zone_expression) -%}
    convert_timezone('UTC', {{ zone_expression }}, {{ timestamp_expression }})
{%- endmacro %}

{% macro duckdb__utc_to_local(timestamp_expression, zone_expression) -%}
    cast(({{ timestamp_expression }} at time zone 'UTC') at time zone {{ zone_expression }} as timestamp)
{%- endmacro %}

{% macro local_to_utc(timestamp_expression, zone_expression) -%}
    {{ return(adapter.dispatch('local_to_utc', 'command_center')(timestamp_expression, zone_expression)) }}
{%- endmacro %}

{% macro default__local_to_utc(timestamp_expression, zone_expression) -%}
    convert_timezone({{ zone_expression }}, 'UTC', {{ timestamp_expression }})
{%- endmacro %}

{% macro duckdb__local_to_utc(timestamp_expression, zone_expression) -%}
    cast(({{ timestamp_expression }} at time zone {{ zone_expression }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- ISO day of the week of a date: 1 = Monday .. 7 = Sunday. -#}
{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'command_center')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    dayofweekiso({{ date_expression }})
{%- endmacro %}

{% macro duckdb__iso_day_of_week(date_expression) -%}
    isodow({{ date_expression }})
{%- endmacro %}

{#- The index of the tumbling window of window_hours (aligned to 1970-01-01 00:00 UTC) holding a
    timestamp, and the start of window index i. -#}
{% macro alert_window_index(timestamp_expression, hours_expression) -%}
    cast(floor({{ seconds_between("cast('1970-01-01 00:00:00' as timestamp)", timestamp_expression) }}
        / (({{ hours_expression }}) * 3600.0)) as bigint)
{%- endmacro %}

{% macro alert_window_start(index_expression, hours_expression) -%}
    {{ timestamp_add_seconds("cast('1970-01-01 00:00:00' as timestamp)", '(' ~ index_expression ~ ') * (' ~ hours_expression ~ ') * 3600.0') }}
{%- endmacro %}

{#- Text of a timestamp, the same on every engine: 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), built from the
    date and the microseconds into the day (to_char formats are not portable, and fakesnow drops them). -#}
{% macro alert_timestamp_text(timestamp_expression) -%}
    {%- set day = 'cast(cast(' ~ timestamp_expression ~ ' as date) as timestamp)' -%}
    {%- set us = 'cast(' ~ dbt.datediff(day, timestamp_expression, 'microsecond') ~ ' as bigint)' -%}
    cast(cast({{ timestamp_expression }} as date) as {{ dbt.type_string() }})
        || ' ' || lpad(cast(cast(floor({{ us }} / 3600000000.0) as bigint) as {{ dbt.type_string() }}), 2, '0')
        || ':' || lpad(cast(cast(floor(mod({{ us }}, 3600000000) / 60000000.0) as bigint) as {{ dbt.type_string() }}), 2, '0')
        || ':' || lpad(cast(cast(floor(mod({{ us }}, 60000000) / 1000000.0) as bigint) as {{ dbt.type_string() }}), 2, '0')
        || '.' || lpad(cast(mod({{ us }}, 1000000) as {{ dbt.type_string() }}), 6, '0')
{%- endmacro %}

{#- Text of a number with a fixed count of decimals, the same on every engine (a double cast to text
    is '1.0' on DuckDB and '1' on Snowflake): sign, integer part, '.', zero-padded decimals. -#}
{% macro alert_number_text(expression, decimals=3) -%}
    {%- set scale = 10 ** decimals -%}
    {%- set scaled = 'cast(round(abs(cast(' ~ expression ~ ' as double)) * ' ~ scale ~ ') as bigint)' -%}
    case
        when {{ expression }} is null then null
        else
            case when cast({{ expression }} as double) < 0 and {{ scaled }} > 0 then '-' else '' end
            || cast(cast(floor({{ scaled }} / {{ scale }}.0) as bigint) as {{ dbt.type_string() }})
            {%- if decimals > 0 %}
            || '.' || lpad(cast(mod({{ scaled }}, {{ scale }}) as {{ dbt.type_string() }}), {{ decimals }}, '0')
            {%- endif %}
    end
{%- endmacro %}
