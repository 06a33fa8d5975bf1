{#- The non-null values of an expression joined with a delimiter in the order of order_by
    (duplicates kept): an aggregate (use it in a group by); null for a group with no non-null value.
    order_by is one sort expression (not a list); make it unique within the group so the result is
    deterministic. Snowflake and default: listagg ... within group (order by ...). DuckDB: a plain
    list() of (order_by, value) structs, sorted and joined per group - not string_agg(... order by
    ...), because DuckDB's ordered aggregates keep every group's values in memory and cannot spill:
    at 100M events (8.2M cases) fct_case_variants failed out of memory under the 3 GB limit. A
    list() aggregate spills with the hash aggregate. -#}
{% macro string_agg_ordered(expression, order_by, delimiter) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'command_center')(expression, order_by, delimiter)) }}
{%- endmacro %}

{% macro default__string_agg_ordered(expression, order_by, delimiter) -%}
    listagg({{ expression }}, '{{ delimiter }}') within group (order by {{ order_by }})
{%- endmacro %}

{% macro duckdb__string_agg_ordered(expression, order_by, delimiter) -%}
    array_to_string(
        list_transform(
            list_sort(list(struct_pack(sort_key := {{ order_by }}, value := {{ expression }}))
                filter (where {{ expression }} is not null)),
            lambda item: item.value
        ),
        '{{ delimiter }}'
    )
{%- endmacro %}

{% macro snowflake__string_agg_ordered(expression, order_by, delimiter) -%}
    listagg({{ expression }}, '{{ delimiter }}') within group (order by {{ order_by }})
{%- endmacro %}
