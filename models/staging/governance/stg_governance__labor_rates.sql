{#- One row per owner team with its hourly labor rate, plus one row with owner_team null that
    carries the register's default rate (for teams the register does not price: unregistered
    workflows' teams). -#}

with

rates as (

    select * from {{ source('governance', 'labor_rates') }}

),

cost_model as (

    select * from {{ source('governance', 'cost_model') }}

),

unioned as (

    select
        owner_team,
        cast(hourly_rate as double) as hourly_rate,
        currency,
        is_default_rate

    from rates

    union all

    select
        cast(null as varchar) as owner_team,
        cast(default_labor_rate_per_hour as double) as hourly_rate,
        currency,
        true as is_default_rate

    from cost_model

)

select * from unioned
