{#- Log-completeness check `check_name`: fails on every violation of that check, one row each (check_name,
    workflow_id, run_id, event_id, event_day, detail). `model` is int_log_completeness_violations, the
    table that evaluates every check once per build (macros/quality/log_completeness/log_completeness_violations.sql);
    the test only reads its rows, so eight checks cost one evaluation. The rules: doc blocks
    log_completeness_* in models/marts/quality/_quality__docs.md. -#}
{% test log_completeness(model, check_name) %}

{%- if check_name not in log_completeness_check_names() -%}
    {{ exceptions.raise_compiler_error("log_completeness: unknown check_name '" ~ check_name ~ "'; known: " ~ log_completeness_check_names() | join(', ')) }}
{%- endif %}

select *
from {{ model }}
where check_name = '{{ check_name }}'

{% endtest %}
