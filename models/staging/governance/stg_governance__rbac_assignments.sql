with

source as (

    select * from {{ source('governance', 'rbac_assignments') }}

),

renamed as (

    select
        principal_type,
        principal,
        role,
        scope

    from source

)

select * from renamed
