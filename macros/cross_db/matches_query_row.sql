{#- A boolean SQL expression: the values of `columns` (outer expressions) equal a row of `query` (a select
    of as many columns, named `query_columns`: by default the names of `columns` without their qualifier).
    `columns` and `query_columns` are lists or comma-separated strings.

    DuckDB (default): `(columns) in (query)`, a hash semi-join.
    Snowflake: an IN subquery is shorthand for `= ANY (query)` and has its restrictions: it cannot be an
    argument of OR and is supported only in a WHERE clause (Snowflake SQL reference, "Subquery operators").
    The incremental deletes and scopes combine such tests with OR, so there it is a correlated count - an
    aggregate with equality correlation and no GROUP BY, a scalar subquery Snowflake accepts in any
    expression: `(select count(*) from (...) where key_1 = column_1 and ...) > 0`.

    Both select the same rows in a WHERE clause; the count is false where the IN would be null (a null
    column, or a null in the query with no match), so do not negate it (no NOT around it). The
    portability check (orchestration/lib/portability.py) reports an IN / ANY / ALL subquery under OR or
    outside a WHERE clause in the SQL compiled and executed for Snowflake. -#}
{% macro matches_query_row(columns, query, query_columns=none) -%}
    {%- set columns = query_row_column_list(columns) -%}
    {%- set unqualified = [] -%}
    {%- for column in (columns if query_columns is none else query_row_column_list(query_columns)) -%}
        {%- do unqualified.append(column.split('.')[-1]) -%}
    {%- endfor -%}
    {%- if unqualified | length != columns | length -%}
        {{ exceptions.raise_compiler_error('matches_query_row: ' ~ columns | length ~ ' columns but '
            ~ unqualified | length ~ ' query columns') }}
    {%- endif -%}
    {{ return(adapter.dispatch('matches_query_row', 'command_center')(columns, query, unqualified)) }}
{%- endmacro %}

{% macro query_row_column_list(columns) -%}
    {%- if columns is string -%}
        {%- set parts = [] -%}
        {%- for part in columns.split(',') -%}{%- do parts.append(part.strip()) -%}{%- endfor -%}
        {{ return(parts) }}
    {%- endif -%}
    {{ return(columns | list) }}
{%- endmacro %}

{% macro default__matches_query_row(columns, query, query_columns) -%}
({{ columns | join(', ') }}) in (
    {{ query }}
)
{%- endmacro %}

{% macro snowflake__matches_query_row(columns, query, query_columns) -%}
(
    select count(*)
    from (
        select {% for column in query_columns %}_query_rows.{{ column }} as _query_row_key_{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}
        from (
            {{ query }}
        ) as _query_rows
    ) as _query_row_keys
    where {% for column in columns %}_query_row_key_{{ loop.index }} = {{ column }}{{ ' and ' if not loop.last }}{% endfor %}
) > 0
{%- endmacro %}
