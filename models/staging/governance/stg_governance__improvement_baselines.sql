{#- One row per registered workflow: the baseline window the register declares for
    agg_improvement_vs_baseline (owners[].baseline). A null start week means "the first full ISO
    week of the workflow's data" (the mart resolves it). -#}

with

source as (

    select * from {{ source('governance', 'improvement_baselines') }}

),

renamed as (

    select
        workflow_id,
        cast(baseline_start_week as date) as baseline_start_week,
        cast(baseline_weeks as integer) as baseline_weeks

    from source

)

select * from renamed
