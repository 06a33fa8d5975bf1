with

source as (

    select * from {{ source('governance', 'workflows') }}

),

renamed as (

    select
        workflow_id,
        workflow_name,
        service_owner,
        owner_team,
        delegate_group

    from source

)

select * from renamed
