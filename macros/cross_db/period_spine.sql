{#- Date spine per row: for every row of `relation` (a CTE or relation name), one output row per
    period from start_column to end_column inclusive, stepping `period` ('day', 'week' or
    'month'), with all of the row's columns plus `period_column` (a date). start_column and
    end_column must be dates already aligned to the period (a day, an ISO Monday for weeks, the
    first of the month for months). This is how the aggregates keep days, weeks and months
    without activity (zeros, not missing rows).
    Bounded to the data present: a row's spine starts no earlier than the spine floor
    (period_spine_start), so one absurd old event (dated 0001-01-01) cannot make a build generate
    two thousand years of days. -#}
{% macro period_spine(relation, start_column, end_column, period, period_column) -%}
    {%- if period not in ('day', 'week', 'month') -%}
        {{ exceptions.raise_compiler_error("period_spine: period must be 'day', 'week' or 'month', got " ~ period) }}
    {%- endif -%}
    {{ return(adapter.dispatch('period_spine', 'command_center')(relation, start_column, end_column, period, period_column)) }}
{%- endmacro %}


{#- The spine floor of a relation, a one-row derived table `spine_floor` (column floor_period, a
    date aligned to the period) to cross join beside the relation: the period of the relation's
    latest end_column less var spine_retention_days days (default 3660, ten years: more than the
    register's retention - telemetry.retention_days and the regions' retention_days - past which
    landing expires events; raise it if the register keeps more), and not before the period of var
    earliest_event_date (an ISO date; unset by default). A join rather than a scalar subquery in the
    series bounds: Snowflake's flatten takes no subquery there. Landing quarantines events outside
    these bounds too; this keeps the models safe on their own. -#}
{% macro period_spine_floor(relation, end_column, period) -%}
    {%- set truncate = {'day': day_start, 'week': week_start, 'month': month_start}[period] -%}
    {%- set retention_days = var('spine_retention_days', 3660) -%}
    {%- if not modules.re.match('^\d{1,6}$', retention_days | string) -%}
        {{ exceptions.raise_compiler_error("var spine_retention_days must be a whole number of days, got '" ~ retention_days ~ "'") }}
    {%- endif -%}
    {%- set earliest = var('earliest_event_date', none) -%}
    {%- if earliest is not none and not modules.re.match('^\d{4}-\d{2}-\d{2}$', earliest | string) -%}
        {{ exceptions.raise_compiler_error("var earliest_event_date must be an ISO date like '2025-01-01', got '" ~ earliest ~ "'") }}
    {%- endif -%}
    (
        select
            {%- if earliest is not none %}
            greatest(
                {{ truncate(dbt.dateadd('day', -(retention_days | int), 'max(spine_bounds.' ~ end_column ~ ')')) }},
                {{ truncate("cast('" ~ earliest ~ "' as date)") }}
            ) as floor_period
            {%- else %}
            {{ truncate(dbt.dateadd('day', -(retention_days | int), 'max(spine_bounds.' ~ end_column ~ ')')) }} as floor_period
            {%- endif %}
        from {{ relation }} as spine_bounds
    ) as spine_floor
{%- endmacro %}

{#- The first period of a spine row: its start_column, but not before the spine floor. -#}
{% macro period_spine_start(relation, start_column) -%}
    greatest({{ relation }}.{{ start_column }}, coalesce(spine_floor.floor_period, {{ relation }}.{{ start_column }}))
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
    cross join {{ period_spine_floor(relation, end_column, period) }}
    cross join lateral generate_series(
        cast({{ period_spine_start(relation, start_column) }} as timestamp),
        cast({{ relation }}.{{ end_column }} as timestamp),
        {{ step }}
    ) as spine(period_start)
{%- endmacro %}

{% macro snowflake__period_spine(relation, start_column, end_column, period, period_column) -%}
    {%- set start = period_spine_start(relation, start_column) -%}
    {%- if period == 'month' %}
    select
        {{ relation }}.*,
        cast(dateadd(month, spine.value::integer, {{ start }}) as date) as {{ period_column }}
    from {{ relation }}
    cross join {{ period_spine_floor(relation, end_column, period) }},
        lateral flatten(input => array_generate_range(
            0,
            datediff(month, {{ start }}, {{ relation }}.{{ end_column }}) + 1
        )) as spine
    {%- else -%}
    {%- set step_days = 7 if period == 'week' else 1 %}
    select
        {{ relation }}.*,
        cast(dateadd(day, spine.value::integer * {{ step_days }}, {{ start }}) as date) as {{ period_column }}
    from {{ relation }}
    cross join {{ period_spine_floor(relation, end_column, period) }},
        lateral flatten(input => array_generate_range(
            0,
            {#- an integer bound (floor of a division is a float on some engines) -#}
            cast(floor(datediff(day, {{ start }}, {{ relation }}.{{ end_column }}) / {{ step_days }}) as integer) + 1
        )) as spine
    {%- endif -%}
{%- endmacro %}
