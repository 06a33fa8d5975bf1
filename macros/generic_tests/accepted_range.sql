{#- Fails on every row whose column lies outside [min_value, max_value] (or the open interval
    when inclusive is false). Either bound may be omitted. Nulls pass. The failing-row condition is
    `accepted_range_failing`, which the nightly build's folded column tests also use
    (model_tests_folded.sql). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

select *
from {{ model }}
where {{ accepted_range_failing(column_name, min_value, max_value, inclusive) }}

{% endtest %}

{% macro accepted_range_failing(column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
{%- endif -%}
(
    {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
        {%- endif %}
    )
)
{%- endmacro %}
