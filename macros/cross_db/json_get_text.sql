{#- The value under a top-level key of a JSON object column, as text (null when the key is
    absent or the column is null). Objects and arrays come back as their JSON text. -#}
{% macro json_get_text(json_expression, key) -%}
    {{ return(adapter.dispatch('json_get_text', 'command_center')(json_expression, key)) }}
{%- endmacro %}

{% macro default__json_get_text(json_expression, key) -%}
    json_extract_path_text({{ json_expression }}, '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_get_text(json_expression, key) -%}
    json_extract_string({{ json_expression }}, '$."{{ key }}"')
{%- endmacro %}

{% macro snowflake__json_get_text(json_expression, key) -%}
    {#- attributes may land as VARIANT or as JSON text; to_varchar covers both. -#}
    json_extract_path_text(to_varchar({{ json_expression }}), '"{{ key }}"')
{%- endmacro %}
