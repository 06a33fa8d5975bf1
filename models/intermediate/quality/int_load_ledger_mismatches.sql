{#- One row per load whose events no longer match what the ledger recorded when it landed them:
    landing writes both in one transaction, so any row here means raw.workflow_events or
    raw.load_ledger was changed outside landing. Empty when everything matches. The singular test
    assert_load_ledger_matches_loaded_events (error) fails on any row, and int_log_completeness_violations
    depends on this model, so a mismatch stops every fact and mart of the build.

    Per load: the events present must equal rows_loaded, and the sum of their fingerprints
    (macro loaded_row_fingerprint) the ledger's loaded_fingerprint, which catches a rewritten value
    (cost_cents x 1000), a deleted event and an added one, even when the ledger's counts were
    lowered to match. Events a retention purge recorded deleting (stg_retention__purged_loads) count
    as present, with their fingerprints. A purge without that record (an older warehouse) deletes the
    oldest events: a load whose earliest landed event
    (first_event_ts) is older than the earliest event left in the warehouse may have fewer events
    than it landed, and only that is checked for it (its fingerprint cannot be recomputed).
    What this does not catch: a change that also rewrites the ledger's fingerprint (the governance
    issue's hash chain is for that), nor, in a load cut by a retention purge, a change to its
    remaining events. Ledger rows from before the fingerprint (null) get the count check only.

    Incremental (config in _int_quality__models.yml): a build recomputes every load (its pre_hook
    empties the table first), except the nightly build (selector nightly, macro is_nightly_build),
    which recomputes the loads landed since the last passing check (ledger or events loaded_at after
    the watermark, macros/nightly/nightly_build.sql) and keeps the other loads' rows. A change to an
    old load's events is found by the weekly full check (selector weekly_full_checks), which
    recomputes every load, or by any plain build.
    The nightly scope is a literal list of load ids (macro ledger_gate_nightly_load_filter, computed
    once from the ledger and the events loaded after the mark), so the 10M-row event scan reads only
    the row groups of those loads; the events view is read directly in each CTE (a CTE read twice is
    materialized whole by DuckDB). -#}

{%- set new_loads_only = is_incremental() and is_nightly_build() %}
{%- set load_filter = ledger_gate_nightly_load_filter('load_id') if new_loads_only else 'true' %}

with

ledger as (

    select load_id, rows_loaded, first_event_ts, loaded_fingerprint
    from {{ ref('stg_command_center__load_ledger') }}
    -- a governance log's rows are in raw.governance_actions, not events: `command-center verify` checks them
    where log_format <> 'governance'
        and {{ load_filter }}

),

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}
    where {{ load_filter }}

),

present_rows as (

    select
        load_id,
        count(*) as events_present,
        cast(sum({{ loaded_row_fingerprint() }}) as decimal(38, 0)) as fingerprint_present
    from events
    group by load_id

),

purged as (

    select load_id, rows_purged, fingerprint_purged
    from {{ ref('stg_retention__purged_loads') }}
    where table_name = 'workflow_events'
        and {{ load_filter }}

),

present as (

    -- the events present plus those the retention purges recorded deleting (orchestration/lib/retention.py):
    -- a purge explains exactly the rows it recorded, any other deletion is still a mismatch
    select
        coalesce(present_rows.load_id, purged.load_id) as load_id,
        coalesce(present_rows.events_present, 0) + coalesce(purged.rows_purged, 0) as events_present,
        cast(coalesce(present_rows.fingerprint_present, 0) + coalesce(purged.fingerprint_purged, 0)
            as decimal(38, 0)) as fingerprint_present
    from present_rows
    full outer join purged
        on present_rows.load_id = purged.load_id

),

retention_boundary as (

    -- (DuckDB answers this from the table's statistics, without a scan)
    select min(event_ts) as earliest_event_ts from {{ ref('stg_command_center__workflow_events') }}

),

compared as (

    select
        coalesce(ledger.load_id, present.load_id) as load_id,
        ledger.rows_loaded,
        -- bigint on every engine (a sum of counts is a HUGEINT on DuckDB): the contract's type
        cast(coalesce(present.events_present, 0) as bigint) as events_present,
        ledger.loaded_fingerprint,
        present.fingerprint_present,
        ledger.first_event_ts,
        retention_boundary.earliest_event_ts,
        case
            when ledger.load_id is null then 'events of a load the ledger does not hold'
            when coalesce(present.events_present, 0) > ledger.rows_loaded then 'more events than the load landed'
            when coalesce(present.events_present, 0) < ledger.rows_loaded
                and not coalesce(ledger.first_event_ts < retention_boundary.earliest_event_ts, false)
                and not (ledger.first_event_ts is null and ledger.loaded_fingerprint is null)
                then 'fewer events than the load landed, and not by a retention purge of the oldest events'
            when coalesce(present.events_present, 0) = ledger.rows_loaded
                and ledger.loaded_fingerprint is not null
                and coalesce(present.fingerprint_present, 0) <> ledger.loaded_fingerprint
                then 'event values differ from what the load landed (content fingerprint)'
        end as mismatch

    from ledger
    full outer join present
        on ledger.load_id = present.load_id
    cross join retention_boundary

),

final as (

    select * from compared
    where mismatch is not null

)

select * from final
