{#- One row per log-completeness violation (every check): the same SQL the log_completeness_* tests on
    stg_command_center__workflow_events run (macros/quality/log_completeness_violations.sql).
    The rules: doc blocks log_completeness_* in models/marts/quality/_quality__docs.md. -#}
{{ log_completeness_violations(ref('stg_command_center__workflow_events'), ref('stg_governance__slo_targets')) }}
