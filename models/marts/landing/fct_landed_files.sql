{#- One row per load in the ledger (one landed file, or one file of a small-file batch): what was
    read, loaded and quarantined, when and by whom. Definitions: doc blocks in _landing__docs.md. -#}
-- behind the log-completeness and ledger gate, like every mart: a tampered ledger skips it
-- depends_on: {{ ref('int_log_completeness_violations') }}

with

ledger as (

    select * from {{ ref('stg_command_center__load_ledger') }}

),

final as (

    select
        load_id,
        file_path,
        file_sha256,
        file_format,
        log_format,
        cast(file_bytes as bigint) as file_bytes,

        cast(rows_read as bigint) as rows_read,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_quarantined as bigint) as rows_quarantined,
        case
            when rows_read > 0
                then round(cast(rows_quarantined as double) / rows_read, 6)
        end as share_quarantined,

        loaded_at,
        first_event_ts,
        landed_by_user,
        landed_on_host,
        cast(landed_by_pid as integer) as landed_by_pid,
        landing_run_id

    from ledger

)

select * from final
