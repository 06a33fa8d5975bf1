with

source as (

    select * from {{ source('governance', 'alert_settings') }}

),

final as (

    select * from source

)

select * from final
