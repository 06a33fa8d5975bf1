with

source as (

    select * from {{ source('governance', 'owners') }}

),

renamed as (

    select
        owner,
        owner_team,
        is_service_owner,
        is_route_target,
        workflows_owned

    from source

)

select * from renamed
