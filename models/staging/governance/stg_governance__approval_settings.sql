with

source as (

    select * from {{ source('governance', 'approval_settings') }}

),

renamed as (

    select
        ai_review_confidence_threshold

    from source

)

select * from renamed
