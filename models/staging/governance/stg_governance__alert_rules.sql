with

source as (

    select * from {{ source('governance', 'alert_rules') }}

),

final as (

    select * from source

)

select * from final
