{#- The log-completeness checks: ONE definition of every violation, computed once per build by the
    table int_log_completeness_violations. One file per check in this folder (check_<name>.sql, a
    macro rendering that check's CTEs), the shared CTEs in base_ctes.sql and daily_counts.sql, and
    this file, which puts them together. The generic test `log_completeness`
    (macros/generic_tests/log_completeness.sql), attached to that table once per check (the tests
    Dagster shows as asset checks), reads its rows of the table; agg_log_completeness_daily counts them.
    The rules in words: doc blocks log_completeness_* in models/marts/quality/_quality__docs.md. -#}


{#- The checks, in the order they are documented. The dbt test of check `x` is `log_completeness_x`. -#}
{% macro log_completeness_check_names() -%}
    {{ return([
        'one_run_started',
        'one_terminal_event',
        'nothing_after_run_end',
        'exception_follow_up_after_raise',
        'no_future_events',
        'daily_volume',
        'no_silent_days',
        'freshness',
    ]) }}
{%- endmacro %}


{#- The checks' tunables: dbt vars with their defaults (doc block log_completeness_settings). -#}
{% macro log_completeness_settings() -%}
    {#- var freshness_as_of, else env COMMAND_CENTER_FRESHNESS_AS_OF (how Dagster runs and tests pin it), else now -#}
    {%- set freshness_as_of = var('freshness_as_of', env_var('COMMAND_CENTER_FRESHNESS_AS_OF', '')) or none -%}
    {%- if freshness_as_of is not none and not modules.re.match('^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$', freshness_as_of | string) -%}
        {{ exceptions.raise_compiler_error("var freshness_as_of must be an ISO 8601 UTC timestamp like '2026-11-23 06:00:00', got " ~ (freshness_as_of | string)) }}
    {%- endif -%}
    {{ return({
        'max_future_skew_hours': var('log_completeness_max_future_skew_hours', 24),
        'edge_grace_hours': var('log_completeness_edge_grace_hours', 48),
        'volume_min_median_events': var('log_completeness_volume_min_median_events', 100),
        'default_volume_min_share_of_median_pct': var('log_completeness_default_volume_min_share_of_median_pct', 50),
        'freshness_as_of': (freshness_as_of | string | replace('T', ' ')) if freshness_as_of is not none else none,
    }) }}
{%- endmacro %}


{#- SQL (a complete select statement) yielding one row per violation:
    check_name, workflow_id, run_id (nullable), event_id (nullable), event_day (UTC date; null only for
    a registered workflow without any event), detail.
    events_relation: the events (columns of stg_command_center__workflow_events);


{#- SQL (a complete select statement) yielding one row per violation of every check:
    check_name, workflow_id, run_id (nullable), event_id (nullable), event_day (UTC date; null only for
    a registered workflow without any event), detail.
    events_relation: the events (columns of stg_command_center__workflow_events);
    slo_targets_relation: the register's thresholds (stg_governance__slo_targets);
    scope: none (every check over every event) or a nightly scope (macro log_completeness_nightly_scope:
    the per-run checks of the touched runs only, the workflow-level checks whole). -#}
{% macro log_completeness_violations(events_relation, slo_targets_relation, scope=none) -%}

{%- set s = log_completeness_settings() %}

with

{{ log_completeness_base_ctes(events_relation, slo_targets_relation, s, scope) }}

{{ log_completeness_check_one_run_started() }}

{{ log_completeness_check_one_terminal_event() }}

{{ log_completeness_check_nothing_after_run_end() }}

{{ log_completeness_check_exception_follow_up_after_raise(events_relation) }}

{{ log_completeness_check_no_future_events(s) }}

{{ log_completeness_daily_counts_ctes(s) }}

{{ log_completeness_check_daily_volume(s) }}

{{ log_completeness_check_no_silent_days(s) }}

{{ log_completeness_check_freshness() }}

violations as (

    {% for check in log_completeness_check_names() -%}
    select
        cast(check_name as varchar) as check_name,
        cast(workflow_id as varchar) as workflow_id,
        cast(run_id as varchar) as run_id,
        cast(event_id as varchar) as event_id,
        cast(event_day as date) as event_day,
        cast(detail as varchar) as detail
    from {{ check }}
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}

)

select * from violations

{%- endmacro %}
