{#- unique, for the nightly build: fails on every value of column_name held by more than one row of
    the model, among the values of the rows touched since the last passing check (watermark_column
    later than the recorded mark, macros/nightly/nightly_build.sql). A new row that repeats an old
    row's value fails (the count is over every row holding the value); a duplicate between two old
    rows is the weekly full check's (the plain unique test, tagged full_history). Nulls pass, like unique.
    The mark is read once as a literal (macros/nightly/nightly_scope.sql) so the scan of the touched
    rows is pruned by zone maps. -#}
{% test unique_touched_since_last_check(model, column_name, watermark_column) %}

with touched as (

    select distinct {{ column_name }} as touched_value
    from {{ model }}
    where {{ column_name }} is not null
        and {{ touched_since_last_check_literal(watermark_column) }}

)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} in (select touched_value from touched)
group by {{ column_name }}
having count(*) > 1

{% endtest %}
