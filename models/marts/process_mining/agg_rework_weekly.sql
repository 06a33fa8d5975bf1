{#- One row per workflow x ISO week (the week of the case's first event, UTC) with at least one
    case: cases, cases with rework (an activity that occurs more than once), the rework rate and the
    repeated activity instances. Definitions: _process_mining__docs.md (pm_rework). Incremental by
    week (macros/incremental/mart_recompute.sql), from fct_case_variants. -#}

with

cases as (

    select * from {{ ref('fct_case_variants') }}
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
        sum(case when has_rework then 1 else 0 end) as rework_cases,
        sum(repeated_instance_count) as repeated_instance_count

    from cases
    group by workflow_id, case_week_start

),

final as (

    select
        workflow_id,
        week_start,
        cast(cases as bigint) as cases,
        cast(rework_cases as bigint) as rework_cases,
        round(cast(rework_cases as double) / cases, 6) as rework_rate,
        cast(repeated_instance_count as bigint) as repeated_instance_count,

        {{ mart_build_state_columns() }}

    from aggregated
    cross join build_state

)

select * from final
