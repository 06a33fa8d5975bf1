{#- Whether an event's actor is a person: any non-null actor other than 'system', compared
    case-insensitively and trimmed (the event contract: actor is 'system' or a person's e-mail).
    A boolean SQL expression, false (never null) for a null actor. lower, trim and <> behave the
    same on DuckDB and Snowflake, so no dispatch is needed. Doc block human_actor in
    models/marts/costs/_costs__docs.md. -#}
{% macro is_human_actor(actor_expression) -%}
    coalesce(lower(trim({{ actor_expression }})) <> 'system', false)
{%- endmacro %}
