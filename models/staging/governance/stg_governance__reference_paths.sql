with

source as (

    select * from {{ source('governance', 'reference_paths') }}

),

renamed as (

    select
        workflow_id,
        checks_start,
        checks_end,
        checks_transitions,
        checks_required_stages

    from source

)

select * from renamed
