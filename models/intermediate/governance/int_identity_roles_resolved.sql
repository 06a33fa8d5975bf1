{#- One row per identity x role x scope x how it is held: the register's rbac assignments resolved to
    identities - a user assignment directly, a group assignment through every member of the group
    (rbac.groups). scope is a workflow id or '*' (every workflow, registered or not). identity_key is
    the identity lower-cased and trimmed: the governance log's actors match on it (e-mail addresses
    are compared case-insensitively). Definitions: doc block governance_identity_resolution in
    models/marts/governance_audit/_governance_audit__docs.md. -#}

with

assignments as (

    select * from {{ ref('stg_governance__rbac_assignments') }}

),

group_members as (

    select * from {{ ref('stg_governance__rbac_group_members') }}

),

direct_grants as (

    select
        assignments.principal as identity_name,
        assignments.role,
        assignments.scope,
        'user' as granted_through,
        cast(null as varchar) as via_group

    from assignments
    where assignments.principal_type = 'user'

),

group_grants as (

    select
        group_members.member as identity_name,
        assignments.role,
        assignments.scope,
        'group' as granted_through,
        assignments.principal as via_group

    from assignments
    inner join group_members
        on assignments.principal = group_members.group_name
    where assignments.principal_type = 'group'

),

unioned as (

    select * from direct_grants
    union all
    select * from group_grants

),

final as (

    select distinct
        lower(trim(identity_name)) as identity_key,
        identity_name,
        role,
        scope,
        scope = '*' as is_every_workflow,
        granted_through,
        via_group

    from unioned

)

select * from final
