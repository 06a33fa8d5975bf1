{#- One row per workflow with a reference path x ISO week (the week of the case's first event, UTC)
    with at least one case: cases, conforming cases, the fitness share (conforming / cases) and the
    cases with each kind of deviation. Definitions: _process_mining__docs.md (pm_conformance).
    Incremental by week (macros/incremental/mart_recompute.sql), from fct_case_conformance. -#}

with

cases as (

    select * from {{ ref('fct_case_conformance') }}
    -- incremental: the weeks the table is missing (the pre_hook deleted the recomputed ones)
    where {{ mart_missing_periods_filter('case_week_start', 'week_start') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

aggregated as (

    select
        workflow_id,
        case_week_start as week_start,
        count(*) as cases,
        sum(case when is_conforming then 1 else 0 end) as conforming_cases,
        sum(case when has_wrong_start then 1 else 0 end) as wrong_start_cases,
        sum(case when has_wrong_end then 1 else 0 end) as wrong_end_cases,
        sum(case when unexpected_transition_count > 0 then 1 else 0 end) as unexpected_transition_cases,
        sum(case when missing_required_stage_count > 0 then 1 else 0 end) as missing_required_stage_cases,
        sum(case when out_of_order_stage_count > 0 then 1 else 0 end) as out_of_order_stage_cases

    from cases
    group by workflow_id, case_week_start

),

final as (

    select
        workflow_id,
        week_start,
        cast(cases as bigint) as cases,
        cast(conforming_cases as bigint) as conforming_cases,
        round(cast(conforming_cases as double) / cases, 6) as fitness_share,
        cast(wrong_start_cases as bigint) as wrong_start_cases,
        cast(wrong_end_cases as bigint) as wrong_end_cases,
        cast(unexpected_transition_cases as bigint) as unexpected_transition_cases,
        cast(missing_required_stage_cases as bigint) as missing_required_stage_cases,
        cast(out_of_order_stage_cases as bigint) as out_of_order_stage_cases,

        {{ mart_build_state_columns() }}

    from aggregated
    cross join build_state

)

select * from final
