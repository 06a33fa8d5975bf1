{#- One row per SLI verdict of a registered workflow, at the instant the verdict became known (event
    time): the SLIs of fct_slo_weekly_snapshot, attributed to an instant instead of a week, for the
    burn-rate evaluation. Definitions: doc block slo_burn_events in models/marts/alerting/_alerting__docs.md.
      cycle_time_within_slo  completed runs, at ended_at; bad: not within_slo
      run_success            runs ended completed / failed / compensated, at ended_at; bad: not completed
      exception_first_touch_within_slo  good at first_touch_at when touched within the target; bad at
                             raised_at + snooze + target (the instant the clock passed it)
      exception_resolution_within_slo   good at resolved_at when within the target; bad at raised_at + target
    Only verdicts at or before as_of. -#}

with

runs as (

    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

slo_targets as (

    select * from {{ ref('stg_governance__slo_targets') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

run_verdicts as (

    select
        runs.workflow_id,
        'cycle_time_within_slo' as sli,
        runs.ended_at as verdict_at,
        case when runs.within_slo then 0 else 1 end as is_bad
    from runs
    where runs.final_status = 'completed' and runs.within_slo is not null

    union all

    select
        runs.workflow_id,
        'run_success' as sli,
        runs.ended_at as verdict_at,
        case when runs.final_status = 'completed' then 0 else 1 end as is_bad
    from runs
    where runs.final_status in ('completed', 'failed', 'compensated')

),

exception_verdicts as (

    select
        workflow_id,
        'exception_first_touch_within_slo' as sli,
        case
            when first_touch_breached
                then {{ timestamp_add_seconds('raised_at', 'snooze_seconds + first_touch_target_seconds') }}
            else first_touch_at
        end as verdict_at,
        case when first_touch_breached then 1 else 0 end as is_bad
    from exceptions
    where first_touch_breached or (first_touch_breached = false and first_touch_at is not null)

    union all

    select
        workflow_id,
        'exception_resolution_within_slo' as sli,
        case
            when resolution_breached then {{ timestamp_add_seconds('raised_at', 'resolution_target_seconds') }}
            else resolved_at
        end as verdict_at,
        case when resolution_breached then 1 else 0 end as is_bad
    from exceptions
    where resolution_breached or (resolution_breached = false and resolved_at is not null)

),

final as (

    select
        verdicts.workflow_id,
        verdicts.sli,
        verdicts.verdict_at,
        verdicts.is_bad

    from (
        select * from run_verdicts
        union all
        select * from exception_verdicts
    ) as verdicts
    inner join slo_targets
        on verdicts.workflow_id = slo_targets.workflow_id
    cross join as_of
    where verdicts.verdict_at <= as_of.as_of_ts

)

select * from final
