{#- The MetricFlow time spine: one row per UTC calendar day from 2000-01-01 to 2050-12-31 (18,628
    days; a fixed range, not the data's: it must outlive any retention purge, and it reads nothing).
    Day numbers from five cross-joined digit sets, days by dbt's cross-database dateadd, so DuckDB
    and Snowflake build the same rows. Declared as the semantic layer's time spine in
    _semantic__models.yml. Incremental: a build appends only the days the table lacks (none once built;
    the nightly build writes nothing), a full refresh builds them all - the same rows. -#}
with

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

day_numbers as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_number

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select cast({{ dbt.dateadd('day', 'day_number', "cast('2000-01-01' as date)") }} as date) as date_day
    from day_numbers

),

final as (

    select date_day
    from days
    where date_day < cast('2051-01-01' as date)
        {%- if is_incremental() %}
        -- only the days the table lacks (a range widened later is filled in, both ways)
        and not exists (
            select 1
            from {{ this }} as kept
            where kept.date_day = days.date_day
        )
        {%- endif %}

)

select * from final
