{#- unique_combination_of_columns, for the nightly build: fails on every combination of
    combination_of_columns held by more than one row of the model, among the rows that share
    scope_columns (default: the whole combination; e.g. [workflow_id, run_id] = every row of a run) with a
    row touched since the last passing check (watermark_column later than the recorded mark, read once
    as a literal so the scan of the touched rows is pruned: macros/nightly/nightly_scope.sql). The count
    is over every row of the model in that scope, so a new row repeating an old row's combination fails;
    a duplicate between two old rows is the weekly full check's (the plain unique_combination_of_columns
    test, tagged full_history). The scope: rows_sharing_touched_scope (macros/nightly/nightly_scope.sql). -#}
{% test unique_combination_touched_since_last_check(model, combination_of_columns, watermark_column, scope_columns=none) %}
{%- set scope = scope_columns if scope_columns else combination_of_columns %}

with touched as (

    select distinct {{ scope | join(', ') }}
    from {{ model }}
    where {{ touched_since_last_check_literal(watermark_column) }}

)

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
where {{ rows_sharing_touched_scope(scope) }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
