with

source as (

    select * from {{ source('raw', 'quarantine') }}

),

renamed as (

    select
        load_id,
        source_file,
        source_row_number,
        reason_code,
        reason_detail,
        raw_record,
        event_id,
        workflow_id,
        cast(quarantined_at as timestamp) as quarantined_at

    from source

)

select * from renamed
