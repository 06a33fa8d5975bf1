with

source as (

    select * from {{ source('raw', 'load_ledger') }}

),

renamed as (

    select
        load_id,
        file_sha256,
        file_path,
        file_format,
        log_format,
        file_bytes,
        rows_read,
        rows_loaded,
        rows_quarantined,
        cast(loaded_at as timestamp) as loaded_at,

        -- who landed it, and the content fingerprint of the rows it loaded
        landed_by_user,
        landed_on_host,
        landed_by_pid,
        landing_run_id,
        cast(first_event_ts as timestamp) as first_event_ts,
        loaded_fingerprint

    from source

)

select * from renamed
