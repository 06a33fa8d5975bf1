with

source as (

    select * from {{ source('governance', 'reference_path_rules') }}

),

renamed as (

    select
        workflow_id,
        rule,
        activity,
        next_activity,
        position

    from source

)

select * from renamed
