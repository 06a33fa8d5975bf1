with

source as (

    select * from {{ source('governance', 'alert_silences') }}

),

final as (

    select * from source

)

select * from final
