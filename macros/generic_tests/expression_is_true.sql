{#- (Usable on a model or on a column; the expression names its columns itself.) Fails on every row where the boolean SQL `expression` is false. A null result passes (use
    not_null or `coalesce` in the expression to make nulls fail). Narrow the rows with the
    built-in `where` config. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
