{#- One row per playbook_run in the governance log of a playbook named in the register's
    approvals.high_risk_playbooks: the approval it is paired with, who gave it, and each check (approved
    before it ran, by an identity holding a required role whose scope covers the workflow, not the
    executor, prechecks recorded, rollback defined) and whether the run is compliant. Definitions:
    doc blocks in _governance_audit__docs.md (governance_approval_matching, governance_playbook_checks).
    A table rebuilt every build (doc governance_audit_rebuild). -#}
-- depends_on: {{ ref('int_log_completeness_violations') }} (the landing gate: a ledger mismatch or a log-completeness error holds back the audit too; doc governance_audit_rebuild)

with

actions as (

    select * from {{ ref('int_governance_actions_normalized') }}

),

playbooks as (

    select * from {{ ref('stg_governance__approval_playbooks') }}

),

requirements as (

    select * from {{ ref('stg_governance__approval_playbook_requirements') }}

),

grants as (

    select * from {{ ref('int_identity_roles_resolved') }}

),

workflows as (

    select * from {{ ref('stg_governance__workflows') }}

),

runs as (

    select
        actions.action_id,
        actions.workflow_id,
        actions.run_id,
        actions.playbook,
        actions.actor,
        actions.actor_key,
        actions.action_ts as executed_at,
        actions.prechecks,
        actions.declared_rollback,
        playbooks.rollback as required_rollback

    from actions
    inner join playbooks
        on actions.playbook = playbooks.playbook
    where actions.action = 'playbook_run'

),

granted_approvals as (

    select * from actions
    where action = 'approval' and decision = 'granted'

),

-- every granted approval of the same workflow, run and playbook; the paired one ranks first: the
-- latest at or before the run, else the earliest after it (then approved_after_execution)
candidate_approvals as (

    select
        runs.action_id as run_action_id,
        granted_approvals.action_id as approval_action_id,
        granted_approvals.actor as approver,
        granted_approvals.actor_key as approver_key,
        granted_approvals.action_ts as approved_at,
        row_number() over (
            partition by runs.action_id
            order by
                case when granted_approvals.action_ts <= runs.executed_at then 0 else 1 end asc,
                case when granted_approvals.action_ts <= runs.executed_at then granted_approvals.action_ts end desc,
                granted_approvals.action_ts asc,
                granted_approvals.action_id asc
        ) as approval_rank

    from runs
    inner join granted_approvals
        on runs.workflow_id = granted_approvals.workflow_id
        and runs.run_id = granted_approvals.run_id
        and runs.playbook = granted_approvals.playbook

),

paired_approvals as (

    select * from candidate_approvals
    where approval_rank = 1

),

-- the approver's grants of the playbook's required roles: any scope, and a scope covering the workflow
approver_roles as (

    select
        runs.action_id,
        max(case when grants.identity_key is not null then 1 else 0 end) as holds_required_role,
        max(
            case when grants.scope = '*' or grants.scope = runs.workflow_id then 1 else 0 end
        ) as holds_required_role_in_scope

    from runs
    inner join paired_approvals
        on runs.action_id = paired_approvals.run_action_id
    inner join requirements
        on runs.playbook = requirements.playbook
        and requirements.requirement = 'role'
    left join grants
        on paired_approvals.approver_key = grants.identity_key
        and requirements.name = grants.role
    group by runs.action_id

),

required_roles as (

    select
        playbook,
        {{ string_agg_distinct('name', ', ') }} as required_roles

    from requirements
    where requirement = 'role'
    group by playbook

),

prechecks_checked as (

    select
        runs.action_id,
        count(requirements.name) as required_precheck_count,
        sum(
            case when {{ list_contains_text('runs.prechecks', 'requirements.name') }} then 1 else 0 end
        ) as recorded_precheck_count,
        {{ string_agg_distinct(
            "case when " ~ list_contains_text('runs.prechecks', 'requirements.name')
            ~ " then null else requirements.name end", ', ') }} as missing_prechecks

    from runs
    left join requirements
        on runs.playbook = requirements.playbook
        and requirements.requirement = 'precheck'
    group by runs.action_id

),

assembled as (

    select
        runs.action_id,
        runs.workflow_id,
        runs.run_id,
        runs.playbook,
        runs.actor,
        runs.executed_at,
        {{ week_start('runs.executed_at') }} as executed_week_start,
        required_roles.required_roles,

        paired_approvals.approval_action_id,
        paired_approvals.approver,
        paired_approvals.approved_at,
        case
            when paired_approvals.approval_action_id is null then 'unapproved'
            when paired_approvals.approved_at <= runs.executed_at then 'approved_before'
            else 'approved_after'
        end as approval_status,
        coalesce(paired_approvals.approved_at <= runs.executed_at, false) as is_approved_before_execution,
        approver_roles.holds_required_role = 1 as approver_holds_required_role,
        approver_roles.holds_required_role_in_scope = 1 as approver_in_scope,
        paired_approvals.approver_key = runs.actor_key as is_self_approval,

        cast(prechecks_checked.required_precheck_count as integer) as required_precheck_count,
        cast(coalesce(prechecks_checked.recorded_precheck_count, 0) as integer) as recorded_precheck_count,
        prechecks_checked.missing_prechecks,
        coalesce(prechecks_checked.recorded_precheck_count, 0)
        = prechecks_checked.required_precheck_count as are_prechecks_recorded,

        runs.declared_rollback,
        runs.required_rollback,
        coalesce(
            case
                when runs.required_rollback is not null then trim(runs.declared_rollback) = runs.required_rollback
                else length(trim(runs.declared_rollback)) > 0
            end,
            false
        ) as is_rollback_defined,

        workflows.service_owner as routed_owner,
        workflows.owner_team

    from runs
    left join paired_approvals
        on runs.action_id = paired_approvals.run_action_id
    left join approver_roles
        on runs.action_id = approver_roles.action_id
    left join required_roles
        on runs.playbook = required_roles.playbook
    left join prechecks_checked
        on runs.action_id = prechecks_checked.action_id
    left join workflows
        on runs.workflow_id = workflows.workflow_id

),

final as (

    select
        *,
        coalesce(
            is_approved_before_execution
            and approver_in_scope
            and not is_self_approval
            and are_prechecks_recorded
            and is_rollback_defined,
            false
        ) as is_compliant

    from assembled

)

select * from final
