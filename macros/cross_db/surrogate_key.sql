{#- A deterministic key from a list of columns: the md5 hex digest (dbt-core's hash) of the values
    cast to text, joined with '|' (dbt-core's concat), nulls spelled '_null_' (so ('a', null) and
    (null, 'a') differ). Both engines produce the same key for the same values. -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
