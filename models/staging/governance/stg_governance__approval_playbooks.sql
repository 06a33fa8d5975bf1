with

source as (

    select * from {{ source('governance', 'approval_playbooks') }}

),

renamed as (

    select
        playbook,
        rollback,
        precheck_count

    from source

)

select * from renamed
