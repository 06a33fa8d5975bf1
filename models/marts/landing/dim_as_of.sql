{#- One row: the instant the build's marts are computed as of (int_as_of), so readers of the marts
    (the demo summary, BI) take "as of" from a mart. Definitions: doc blocks in _landing__docs.md. -#}

with

as_of as (

    select * from {{ ref('int_as_of') }}

),

final as (

    select
        as_of_ts,
        latest_event_at,
        is_pinned

    from as_of

)

select * from final
