with

source as (

    select * from {{ source('governance', 'rbac_role_permissions') }}

),

renamed as (

    select
        role,
        permission

    from source

)

select * from renamed
