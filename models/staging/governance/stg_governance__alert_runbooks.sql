with

source as (

    select * from {{ source('governance', 'alert_runbooks') }}

),

final as (

    select * from source

)

select * from final
