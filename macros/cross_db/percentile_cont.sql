{#- Continuous quantile with linear interpolation between the two nearest ranks (numpy's default
    'linear' method, DuckDB quantile_cont, Snowflake percentile_cont). Nulls are ignored.
    An aggregate: use it in a group by. `fractions` (optional): every fraction the same select
    takes of the same expression; DuckDB then computes them as one list quantile, one state per
    group instead of one per fraction (half the memory for p50 + p90: the state keeps every value of
    the group and does not spill), and this call picks its own element. -#}
{% macro percentile_cont(expression, fraction, fractions=none) -%}
    {%- if fractions is not none and fraction not in fractions -%}
        {{ exceptions.raise_compiler_error("percentile_cont: fraction " ~ fraction ~ " is not in fractions " ~ fractions) }}
    {%- endif -%}
    {{ return(adapter.dispatch('percentile_cont', 'command_center')(expression, fraction, fractions)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction, fractions=none) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction, fractions=none) -%}
    {%- if fractions is none -%}
    quantile_cont({{ expression }}, {{ fraction }})
    {%- else -%}
    {#- identical aggregate calls are computed once per select; list elements are 1-based -#}
    quantile_cont({{ expression }}, [{{ fractions | join(', ') }}])[{{ fractions.index(fraction) + 1 }}]
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__percentile_cont(expression, fraction, fractions=none) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}
