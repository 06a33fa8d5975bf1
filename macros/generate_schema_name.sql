{#- Custom schema names are used as-is (staging, intermediate, marts), not prefixed with the
    target schema; models without a custom schema land in the target schema (main on DuckDB). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
