with

source as (

    select * from {{ source('raw', 'workflow_events') }}

),

renamed as (

    select
        -- ids
        event_id,
        workflow_id,
        run_id,
        load_id,

        -- event
        event_type,
        cast(event_ts as timestamp) as event_ts,
        region,
        stage,
        status,
        owner,
        exception_id,
        exception_class,
        severity,
        actor,
        attempt,
        error_code,
        attributes,

        -- measures
        duration_ms,
        cost_cents,
        confidence,

        -- lineage
        log_format,
        source_event_name,
        source_file,
        source_row_number,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
