{#- What the retention purges deleted, per load and raw table (orchestration/lib/retention.py). The
    source table is created by the first purge, so the model reads it only when it exists. -#}
{%- set purged = source('retention', 'retention_purged_loads') -%}
{%- set exists = adapter.get_relation(database=purged.database, schema=purged.schema, identifier=purged.identifier)
    if execute else none -%}

with

{% if exists %}
source as (

    select * from {{ purged }}

),
{% else %}
source as (

    select
        cast(null as varchar) as purge_id,
        cast(null as varchar) as load_id,
        cast(null as varchar) as table_name,
        cast(null as bigint) as rows_purged,
        cast(null as decimal(38, 0)) as fingerprint_purged
    where 1 = 0

),
{% endif %}

summed as (

    select
        load_id,
        table_name,
        sum(rows_purged) as rows_purged,
        cast(sum(fingerprint_purged) as decimal(38, 0)) as fingerprint_purged
    from source
    group by load_id, table_name

)

select * from summed
