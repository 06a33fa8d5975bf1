with

source as (

    select * from {{ source('governance', 'exception_classes') }}

),

renamed as (

    select
        exception_class,
        route_to,
        severity,
        snooze_policy_minutes,
        snooze_policy_minutes * 60.0 as snooze_policy_seconds

    from source

)

select * from renamed
