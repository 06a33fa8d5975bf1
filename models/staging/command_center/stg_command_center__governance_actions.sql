with

source as (

    select * from {{ source('raw', 'governance_actions') }}

),

renamed as (

    select
        -- ids
        action_id,
        workflow_id,
        run_id,
        load_id,

        -- who did what
        actor,
        actor_role,
        action,
        playbook,
        decision,
        reviewer_id,
        prechecks,
        rollback,

        -- AI-assisted actions: the prompt as a salted hash and length (text only when allowed)
        prompt_sha256,
        prompt_length,
        prompt_text,
        model_name,
        model_version,
        confidence,

        -- when (UTC, with offset)
        cast(action_ts as timestamptz) as action_ts,
        attributes,

        -- lineage
        source_row_number,
        cast(loaded_at as timestamptz) as loaded_at

    from source

)

select * from renamed
