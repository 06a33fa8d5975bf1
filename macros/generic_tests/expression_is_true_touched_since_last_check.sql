{#- expression_is_true, for the nightly build: fails on every row touched since the last passing check
    (watermark_column later than the recorded mark, read once as a literal so the scan is pruned:
    macros/nightly/nightly_scope.sql) where the boolean SQL `expression` is false; a null result passes.
    For row-level checks: a row can only break when it is written, so the rows written since the mark
    are the new ones; an older row changed outside the build is the weekly full check's (the plain
    expression_is_true test, tagged full_history). -#}
{% test expression_is_true_touched_since_last_check(model, expression, watermark_column) %}

select *
from {{ model }}
where {{ touched_since_last_check_literal(watermark_column) }}
    and not ({{ expression }})

{% endtest %}
