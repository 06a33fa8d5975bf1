{#- One row per workflow x ISO week (week_start = the Monday, UTC) x violation type, from the
    workflow's first to its last week with a governance-log action: the violations whose action falls
    in the week (zero when none: a week without violations is a finding too). Every violation type
    has a row in every such week. Definitions: doc block governance_violations_weekly in
    _governance_audit__docs.md. A table rebuilt every build. -#}

with

violations as (

    select * from {{ ref('fct_governance_violations') }}

),

actions as (

    select
        workflow_id,
        {{ week_start('action_ts') }} as period_start

    from {{ ref('int_governance_actions_normalized') }}

),

activity_bounds as (

    select
        workflow_id,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start

    from actions
    group by workflow_id

),

spine as (

    {{ period_spine('activity_bounds', 'first_period_start', 'last_period_start', 'week', 'period_start') }}

),

violation_types as (

    {% for violation_type in governance_violation_types() -%}
    select '{{ violation_type }}' as violation_type
    {%- if not loop.last %}
    union all
    {% endif -%}
    {%- endfor %}

),

counted as (

    select
        workflow_id,
        week_start,
        violation_type,
        count(*) as violations

    from violations
    group by workflow_id, week_start, violation_type

),

workflows as (

    select * from {{ ref('stg_governance__workflows') }}

),

final as (

    select
        spine.workflow_id,
        spine.period_start as week_start,
        violation_types.violation_type,
        cast(coalesce(counted.violations, 0) as bigint) as violations,
        workflows.service_owner as routed_owner,
        workflows.owner_team

    from spine
    cross join violation_types
    left join counted
        on spine.workflow_id = counted.workflow_id
        and spine.period_start = counted.week_start
        and violation_types.violation_type = counted.violation_type
    left join workflows
        on spine.workflow_id = workflows.workflow_id

)

select * from final
