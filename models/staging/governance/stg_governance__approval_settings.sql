with

source as (

    select * from {{ source('governance', 'approval_settings') }}

),

renamed as (

    select
        ai_review_confidence_threshold,
        default_timeout_hours,
        default_timeout_hours * 3600.0 as default_timeout_seconds

    from source

)

select * from renamed
