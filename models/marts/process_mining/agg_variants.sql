{#- One row per workflow and variant: how many cases took the path, their share of the workflow's
    cases, p50 / p90 case duration, failure and exception rates (which paths go with failure or
    delay). Definitions: _process_mining__docs.md (pm_variant, pm_variant_stats). A table, rebuilt
    every build from fct_case_variants (small: one row per case). -#}

with

cases as (

    select * from {{ ref('fct_case_variants') }}

),

per_variant as (

    select
        workflow_id,
        variant_hash,
        min(variant) as variant,
        min(activity_count) as activity_count,
        count(*) as cases,
        sum(case when is_failed then 1 else 0 end) as failed_cases,
        sum(case when had_exception then 1 else 0 end) as exception_cases,
        sum(case when has_rework then 1 else 0 end) as rework_cases,
        {{ percentile_cont('case_duration_seconds', 0.5, fractions=[0.5, 0.9]) }} as p50_case_duration_seconds,
        {{ percentile_cont('case_duration_seconds', 0.9, fractions=[0.5, 0.9]) }} as p90_case_duration_seconds,
        min(first_event_at) as first_case_at,
        max(first_event_at) as last_case_at

    from cases
    group by workflow_id, variant_hash

),

final as (

    select
        workflow_id,
        variant_hash,
        variant,
        cast(activity_count as bigint) as activity_count,
        cast(cases as bigint) as cases,
        round(cast(cases as double) / sum(cases) over (partition by workflow_id), 6) as case_share,
        cast(row_number() over (partition by workflow_id order by cases desc, variant asc) as bigint) as variant_rank,
        round(cast(p50_case_duration_seconds as double), 6) as p50_case_duration_seconds,
        round(cast(p90_case_duration_seconds as double), 6) as p90_case_duration_seconds,
        cast(failed_cases as bigint) as failed_cases,
        round(cast(failed_cases as double) / cases, 6) as failure_rate,
        cast(exception_cases as bigint) as exception_cases,
        round(cast(exception_cases as double) / cases, 6) as exception_rate,
        cast(rework_cases as bigint) as rework_cases,
        first_case_at,
        last_case_at

    from per_variant

)

select * from final
