with

source as (

    select * from {{ source('governance', 'alert_rule_transitions') }}

),

final as (

    select * from source

)

select * from final
