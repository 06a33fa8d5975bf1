with

source as (

    select * from {{ source('governance', 'alert_severities') }}

),

final as (

    select * from source

)

select * from final
