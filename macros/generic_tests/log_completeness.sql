{#- Log-completeness check `check_name` over the events in `model` (stg_command_center__workflow_events):
    fails on every violation of that check (one row each, with workflow_id, run_id, event_id, event_day
    and a detail). The rules: macros/quality/log_completeness_violations.sql and the doc blocks
    log_completeness_* in models/marts/quality/_quality__docs.md. -#}
{% test log_completeness(model, check_name) %}

{%- if check_name not in log_completeness_check_names() -%}
    {{ exceptions.raise_compiler_error("log_completeness: unknown check_name '" ~ check_name ~ "'; known: " ~ log_completeness_check_names() | join(', ')) }}
{%- endif %}

select *
from (
    {#- the macro reads stg_governance__slo_targets only for the checks that need it (daily_volume,
        freshness): the error checks read this model alone, so their failure blocks all of its descendants -#}
    {{ log_completeness_violations(model, checks=[check_name]) }}
) as log_completeness_violations

{% endtest %}
