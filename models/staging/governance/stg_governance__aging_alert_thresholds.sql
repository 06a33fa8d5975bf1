with

source as (

    select * from {{ source('governance', 'aging_alert_thresholds') }}

),

renamed as (

    select
        severity,
        threshold_minutes,
        threshold_minutes * 60.0 as threshold_seconds

    from source

)

select * from renamed
