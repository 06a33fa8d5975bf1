{#- Cross-database helpers of the governance audit (models/marts/governance_audit). -#}

{#- A timestamp with time zone as its UTC wall clock (timestamp without zone). DuckDB: timezone('UTC', ts);
    Snowflake: convert_timezone('UTC', ts) cast to TIMESTAMP_NTZ (a plain cast would keep the stored offset's
    wall clock). -#}
{% macro utc_wall_clock(timestamp_expression) -%}
    {{ return(adapter.dispatch('utc_wall_clock', 'command_center')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__utc_wall_clock(timestamp_expression) -%}
    cast(convert_timezone('UTC', {{ timestamp_expression }}) as timestamp_ntz)
{%- endmacro %}

{% macro duckdb__utc_wall_clock(timestamp_expression) -%}
    cast(timezone('UTC', {{ timestamp_expression }}) as timestamp)
{%- endmacro %}


{#- True when a list of text (DuckDB varchar[]; Snowflake ARRAY) holds the value, null when the list is
    null. DuckDB: list_contains. Snowflake: the value, JSON-quoted, found in the array's JSON text
    (to_varchar): exact for plain names (the register's precheck names); a name holding a double
    quote or a backslash would need the JSON escaping too. -#}
{% macro list_contains_text(list_expression, value_expression) -%}
    {{ return(adapter.dispatch('list_contains_text', 'command_center')(list_expression, value_expression)) }}
{%- endmacro %}

{% macro default__list_contains_text(list_expression, value_expression) -%}
    (position('"' || {{ value_expression }} || '"' in to_varchar({{ list_expression }})) > 0)
{%- endmacro %}

{% macro duckdb__list_contains_text(list_expression, value_expression) -%}
    list_contains({{ list_expression }}, {{ value_expression }})
{%- endmacro %}


{#- The governance violation types, in the order the docs list them (doc block governance_violation_types). -#}
{% macro governance_violation_types() -%}
    {{ return(['unapproved_run', 'approver_wrong_role', 'approver_out_of_scope', 'approved_after_execution',
               'self_approval', 'missing_prechecks', 'missing_rollback', 'ai_action_without_review',
               'unauthorized_change']) }}
{%- endmacro %}
