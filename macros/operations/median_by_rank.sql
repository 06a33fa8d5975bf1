{#- The continuous median (linear interpolation, like DuckDB quantile_cont / Snowflake
    percentile_cont at 0.5) of n values from their 1-based ranks in ascending order, for a median
    looked up in a sorted list instead of computed by a quantile aggregate (which holds every group's
    values in memory). Position p = (n - 1) / 2 counted from 0: the value at rank floor(p) + 1, plus
    (value at rank ceil(p) + 1 - it) x (p - floor(p)), the same arithmetic as quantile_cont.
    median_low_rank / median_high_rank: the two ranks (equal when n is odd), as bigint expressions.
    median_from_ranks: an aggregate over a group holding (at least) the rows at those two ranks; n is
    constant in the group. -#}
{% macro median_low_rank(n) -%}
    cast(floor(({{ n }} - 1) / 2.0) as bigint) + 1
{%- endmacro %}

{% macro median_high_rank(n) -%}
    cast(floor({{ n }} / 2.0) as bigint) + 1
{%- endmacro %}

{% macro median_from_ranks(value, rank, n) -%}
    max(case when {{ rank }} = {{ median_low_rank(n) }} then {{ value }} end)
    + (
        max(case when {{ rank }} = {{ median_high_rank(n) }} then {{ value }} end)
        - max(case when {{ rank }} = {{ median_low_rank(n) }} then {{ value }} end)
    ) * ((max({{ n }}) - 1) / 2.0 - floor((max({{ n }}) - 1) / 2.0))
{%- endmacro %}
