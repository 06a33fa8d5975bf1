{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_command_center__workflow_events'}}}) }}
{#- Every load's rows_loaded in the ledger equals the events that carry its load_id. Landing
    writes both in one transaction, so a difference means events were deleted or inserted
    around the landing. A warning, not an error: a future retention job (telemetry.retention_days)
    would legitimately delete old events. -#}

with

ledger as (

    select load_id, rows_loaded
    from {{ ref('stg_command_center__load_ledger') }}

),

loaded as (

    select load_id, count(*) as events_present
    from {{ ref('stg_command_center__workflow_events') }}
    group by load_id

)

select
    coalesce(ledger.load_id, loaded.load_id) as load_id,
    ledger.rows_loaded,
    loaded.events_present
from ledger
full outer join loaded
    on ledger.load_id = loaded.load_id
where coalesce(ledger.rows_loaded, -1) <> coalesce(loaded.events_present, 0)
