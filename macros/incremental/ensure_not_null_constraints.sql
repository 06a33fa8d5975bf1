{#- pre_hook (outside the model's transaction) of an incremental model with an enforced contract. dbt
    writes a contract's constraints into the DDL only when it creates the table; an incremental run
    inserts into the table that is there. A table built before its contract declared a not_null
    constraint therefore lacks it, and nothing would reject a NULL (the not_null data test is gone):
    add each missing one - the database checks the rows already there and from then on rejects a NULL.
    On a table built with the contract this is one catalog query and nothing else. -#}
{% macro ensure_not_null_constraints() -%}
{%- set contract_config = config.get('contract') -%}
{%- if execute and is_incremental() and contract_config and contract_config.enforced -%}
    {%- set declared = [] -%}
    {%- for column in model.columns.values() -%}
        {%- if column.constraints | selectattr('type', 'equalto', 'not_null') | list -%}
            {%- do declared.append(column.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if declared -%}
        {%- set nullable = run_query(
            "select lower(column_name) from information_schema.columns"
            ~ " where lower(table_schema) = lower('" ~ this.schema ~ "')"
            ~ " and lower(table_name) = lower('" ~ this.identifier ~ "') and is_nullable = 'YES'"
        ).columns[0].values() -%}
        {%- for column in declared if column in nullable -%}
            {%- do log("ensure_not_null_constraints: " ~ this ~ "." ~ column ~ " set not null (the table predates its contract)", info=true) -%}
            {%- do run_query("alter table " ~ this ~ " alter column " ~ column ~ " set not null") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}
