with

source as (

    select * from {{ source('governance', 'workflow_regions') }}

),

renamed as (

    select
        workflow_id,
        region

    from source

)

select * from renamed
