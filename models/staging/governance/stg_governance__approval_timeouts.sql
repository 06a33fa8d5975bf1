with

source as (

    select * from {{ source('governance', 'approval_timeouts') }}

),

renamed as (

    select
        -- the grain (workflow_id, stage) as one non-null key: stage is null on a workflow-wide row
        {{ surrogate_key(['workflow_id', 'stage']) }} as timeout_key,
        workflow_id,
        stage,
        timeout_hours,
        timeout_hours * 3600.0 as timeout_seconds

    from source

)

select * from renamed
