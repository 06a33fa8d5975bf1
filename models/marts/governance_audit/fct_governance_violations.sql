{#- One row per governance violation (violation_type x the action that commits it): the checks of
    fct_playbook_executions that failed (unapproved_run, approver_wrong_role, approver_out_of_scope,
    approved_after_execution, self_approval, missing_prechecks, missing_rollback), AI-assisted actions
    below the register's confidence threshold without a reviewer (ai_action_without_review), and
    modify_sla / assign_owner actions by an identity without that permission in scope
    (unauthorized_change); with evidence, routed to the workflow's service owner. Definitions: doc
    block governance_violation_types in _governance_audit__docs.md. A table rebuilt every build. -#}
-- depends_on: {{ ref('int_log_completeness_violations') }} (the landing gate; doc governance_audit_rebuild)

with

executions as (

    select * from {{ ref('fct_playbook_executions') }}

),

actions as (

    select * from {{ ref('int_governance_actions_normalized') }}

),

settings as (

    select * from {{ ref('stg_governance__approval_settings') }}

),

grants as (

    select * from {{ ref('int_identity_roles_resolved') }}

),

permissions as (

    select * from {{ ref('stg_governance__rbac_role_permissions') }}

),

workflows as (

    select * from {{ ref('stg_governance__workflows') }}

),

-- one row per failed check of a high-risk playbook run
execution_checks as (

    select
        executions.*,
        checks.violation_type

    from executions
    cross join (
        {% for violation_type in governance_violation_types()[:7] -%}
        select '{{ violation_type }}' as violation_type
        {%- if not loop.last %}
        union all
        {% endif -%}
        {%- endfor %}
    ) as checks

),

execution_violations as (

    select
        violation_type,
        action_id,
        workflow_id,
        run_id,
        playbook,
        'playbook_run' as action,  -- noqa: RF04
        actor,
        executed_at as action_ts,
        approval_action_id as related_action_id,
        approver,
        approved_at,
        required_roles,
        missing_prechecks,
        declared_rollback,
        required_rollback,
        cast(null as double) as confidence,
        cast(null as double) as confidence_threshold,
        cast(null as varchar) as model_name,
        cast(null as varchar) as prompt_sha256,
        case violation_type
            when 'unapproved_run' then 'no granted approval of this workflow, run and playbook'
            when 'approver_wrong_role' then 'the approver holds none of the required roles (' || required_roles || ')'
            when 'approver_out_of_scope' then 'the approver holds a required role, in no scope covering workflow ' || workflow_id
            when 'approved_after_execution' then 'approved at ' || cast(approved_at as varchar) || ', after the run at ' || cast(executed_at as varchar)
            when 'self_approval' then 'approved by the identity that ran it'
            when 'missing_prechecks' then 'prechecks not recorded: ' || missing_prechecks
            when 'missing_rollback' then 'rollback ' || coalesce('''' || declared_rollback || '''', 'missing') || coalesce(', required ''' || required_rollback || '''', '')
        end as evidence

    from execution_checks
    where
        (violation_type = 'unapproved_run' and approval_action_id is null)
        or (violation_type = 'approver_wrong_role' and approval_action_id is not null and not approver_holds_required_role)
        or (violation_type = 'approver_out_of_scope' and approver_holds_required_role and not approver_in_scope)
        or (violation_type = 'approved_after_execution' and approval_status = 'approved_after')
        or (violation_type = 'self_approval' and is_self_approval)
        or (violation_type = 'missing_prechecks' and not are_prechecks_recorded)
        or (violation_type = 'missing_rollback' and not is_rollback_defined)

),

-- modify_sla / assign_owner: the actor must hold a role with that permission whose scope covers the workflow
authorized_changes as (

    select distinct actions.action_id

    from actions
    inner join grants
        on actions.actor_key = grants.identity_key
    inner join permissions
        on grants.role = permissions.role
        and actions.action = permissions.permission
    where
        actions.action in ('modify_sla', 'assign_owner')
        and (grants.scope = '*' or grants.scope = actions.workflow_id)

),

-- any action: an AI-assisted one below the threshold without a reviewer; a change without authority
action_violations as (

    select
        checks.violation_type,
        actions.action_id,
        actions.workflow_id,
        actions.run_id,
        actions.playbook,
        actions.action,
        actions.actor,
        actions.action_ts,
        cast(null as varchar) as related_action_id,
        cast(null as varchar) as approver,
        cast(null as timestamp) as approved_at,
        cast(null as varchar) as required_roles,
        cast(null as varchar) as missing_prechecks,
        cast(null as varchar) as declared_rollback,
        cast(null as varchar) as required_rollback,
        case when checks.violation_type = 'ai_action_without_review' then actions.confidence end as confidence,
        case
            when checks.violation_type = 'ai_action_without_review' then settings.ai_review_confidence_threshold
        end as confidence_threshold,
        case when checks.violation_type = 'ai_action_without_review' then actions.model_name end as model_name,
        case when checks.violation_type = 'ai_action_without_review' then actions.prompt_sha256 end as prompt_sha256,
        case checks.violation_type
            when 'ai_action_without_review'
                then 'confidence ' || cast(actions.confidence as varchar) || ' below '
                || cast(settings.ai_review_confidence_threshold as varchar) || ' and no reviewer_id'
            else 'the actor holds no role with permission ' || actions.action || ' in a scope covering workflow '
                || actions.workflow_id || coalesce(' (the log claims role ' || actions.actor_role || ')', '')
        end as evidence

    from actions
    cross join settings
    cross join (
        {% for violation_type in governance_violation_types()[7:] -%}
        select '{{ violation_type }}' as violation_type
        {%- if not loop.last %}
        union all
        {% endif -%}
        {%- endfor %}
    ) as checks
    left join authorized_changes
        on actions.action_id = authorized_changes.action_id
    where
        (
            checks.violation_type = 'ai_action_without_review'
            and actions.confidence < settings.ai_review_confidence_threshold
            and coalesce(trim(actions.reviewer_id), '') = ''
        )
        or (
            checks.violation_type = 'unauthorized_change'
            and actions.action in ('modify_sla', 'assign_owner')
            and authorized_changes.action_id is null
        )

),

unioned as (

    select * from execution_violations
    union all
    select * from action_violations

),

final as (

    select
        {{ surrogate_key(['unioned.violation_type', 'unioned.action_id']) }} as violation_id,
        unioned.violation_type,
        unioned.action_id,
        unioned.workflow_id,
        unioned.run_id,
        unioned.playbook,
        unioned.action,
        unioned.actor,
        unioned.action_ts,
        {{ week_start('unioned.action_ts') }} as week_start,
        unioned.related_action_id,
        unioned.approver,
        unioned.approved_at,
        unioned.required_roles,
        unioned.missing_prechecks,
        unioned.declared_rollback,
        unioned.required_rollback,
        unioned.confidence,
        unioned.confidence_threshold,
        unioned.model_name,
        unioned.prompt_sha256,
        unioned.evidence,
        workflows.service_owner as routed_owner,
        workflows.owner_team

    from unioned
    left join workflows
        on unioned.workflow_id = workflows.workflow_id

)

select * from final
