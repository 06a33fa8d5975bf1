{#- relationships, for the nightly build: fails on every row touched since the last passing check
    (watermark_column later than the recorded mark, read once as a literal so the scan is pruned:
    macros/nightly/nightly_scope.sql) whose column_name has no row in `to` with that `field`, against
    every row of `to`. An older row whose parent went away is the weekly full check's (the plain
    relationships test, tagged full_history). Nulls pass, like relationships. -#}
{% test relationships_touched_since_last_check(model, column_name, to, field, watermark_column) %}

with child as (

    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
        and {{ touched_since_last_check_literal(watermark_column) }}

),

parent as (

    select {{ field }} as to_field
    from {{ to }}

)

select child.from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endtest %}
