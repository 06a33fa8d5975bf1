with

source as (

    select * from {{ source('governance', 'approval_playbook_requirements') }}

),

renamed as (

    select
        playbook,
        requirement,
        name

    from source

)

select * from renamed
