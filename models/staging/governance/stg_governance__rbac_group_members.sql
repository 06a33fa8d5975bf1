with

source as (

    select * from {{ source('governance', 'rbac_group_members') }}

),

renamed as (

    select
        group_name,
        member

    from source

)

select * from renamed
