{#- One row per governance-log action (stg_command_center__governance_actions), as the governance audit
    compares them: action_ts as its UTC wall clock (a timestamp without zone; weeks are UTC ISO weeks)
    and actor_key, the actor lower-cased and trimmed (it matches int_identity_roles_resolved.identity_key).
    Definitions: doc block governance_identity_resolution in _governance_audit__docs.md. -#}

with

actions as (

    select * from {{ ref('stg_command_center__governance_actions') }}

),

final as (

    select
        action_id,
        workflow_id,
        run_id,
        actor,
        lower(trim(actor)) as actor_key,
        actor_role,
        action,
        playbook,
        decision,
        reviewer_id,
        prechecks,
        actions.rollback as declared_rollback,
        confidence,
        model_name,
        model_version,
        prompt_sha256,
        {{ utc_wall_clock('action_ts') }} as action_ts

    from actions

)

select * from final
