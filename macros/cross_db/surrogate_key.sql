{#- A deterministic key from a list of columns: the md5 hex digest of the values cast to text,
    joined with '|', nulls spelled '_null_' (so ('a', null) and (null, 'a') differ). md5, cast to
    varchar, coalesce and || behave the same on DuckDB and Snowflake, so both engines produce the
    same key for the same values. -#}
{% macro surrogate_key(columns) -%}
    {{ return(adapter.dispatch('surrogate_key', 'command_center')(columns)) }}
{%- endmacro %}

{% macro default__surrogate_key(columns) -%}
    md5(
    {%- for column in columns %}
        coalesce(cast({{ column }} as varchar), '_null_'){% if not loop.last %} || '|' ||{% endif %}
    {%- endfor %}
    )
{%- endmacro %}

{% macro snowflake__surrogate_key(columns) -%}
    md5(
    {%- for column in columns %}
        coalesce(to_varchar({{ column }}), '_null_'){% if not loop.last %} || '|' ||{% endif %}
    {%- endfor %}
    )
{%- endmacro %}
