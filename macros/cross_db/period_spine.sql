{#- Date spine per row: for every row of `relation` (a CTE or relation name), one output row per
    period from start_column to end_column inclusive, stepping `period` ('day', 'week' or
    'month'), with all of the row's columns plus `period_column` (a date). start_column and
    end_column must be dates already aligned to the period (a day, an ISO Monday for weeks, the
    first of the month for months). This is how the aggregates keep days, weeks and months
    without activity (zeros, not missing rows). -#}
{% macro period_spine(relation, start_column, end_column, period, period_column) -%}
    {%- if period not in ('day', 'week', 'month') -%}
        {{ exceptions.raise_compiler_error("period_spine: period must be 'day', 'week' or 'month', got " ~ period) }}
    {%- endif -%}
    {{ return(adapter.dispatch('period_spine', 'command_center')(relation, start_column, end_column, period, period_column)) }}
{%- endmacro %}

{% macro default__period_spine(relation, start_column, end_column, period, period_column) -%}
    {{ exceptions.raise_compiler_error("period_spine has no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__period_spine(relation, start_column, end_column, period, period_column) -%}
    {%- if period == 'month' -%}
        {%- set step = 'interval 1 month' -%}
    {%- else -%}
        {%- set step = 'interval ' ~ (7 if period == 'week' else 1) ~ ' day' -%}
    {%- endif %}
    select
        {{ relation }}.*,
        cast(spine.period_start as date) as {{ period_column }}
    from {{ relation }}
    cross join lateral generate_series(
        cast({{ relation }}.{{ start_column }} as timestamp),
        cast({{ relation }}.{{ end_column }} as timestamp),
        {{ step }}
    ) as spine(period_start)
{%- endmacro %}

{% macro snowflake__period_spine(relation, start_column, end_column, period, period_column) -%}
    {%- if period == 'month' %}
    select
        {{ relation }}.*,
        cast(dateadd(month, spine.value::integer, {{ relation }}.{{ start_column }}) as date) as {{ period_column }}
    from {{ relation }},
        lateral flatten(input => array_generate_range(
            0,
            datediff(month, {{ relation }}.{{ start_column }}, {{ relation }}.{{ end_column }}) + 1
        )) as spine
    {%- else -%}
    {%- set step_days = 7 if period == 'week' else 1 %}
    select
        {{ relation }}.*,
        cast(dateadd(day, spine.value::integer * {{ step_days }}, {{ relation }}.{{ start_column }}) as date) as {{ period_column }}
    from {{ relation }},
        lateral flatten(input => array_generate_range(
            0,
            {#- an integer bound (floor of a division is a float on some engines) -#}
            cast(floor(datediff(day, {{ relation }}.{{ start_column }}, {{ relation }}.{{ end_column }}) / {{ step_days }}) as integer) + 1
        )) as spine
    {%- endif -%}
{%- endmacro %}
