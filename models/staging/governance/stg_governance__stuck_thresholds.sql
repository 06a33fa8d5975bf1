with

source as (

    select * from {{ source('governance', 'stuck_thresholds') }}

),

renamed as (

    select
        workflow_id,
        stage,
        threshold_minutes,
        threshold_minutes * 60.0 as threshold_seconds,
        is_default

    from source

)

select * from renamed
