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
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
