{#- One row per log-completeness violation (every check): the same SQL the log_completeness_* tests on
    stg_command_center__workflow_events run (macros/quality/log_completeness/log_completeness_violations.sql).
    The rules: doc blocks log_completeness_* in models/marts/quality/_quality__docs.md. -#}
-- depends_on: {{ ref('int_load_ledger_mismatches') }} (the ledger gate: assert_load_ledger_matches_loaded_events failing skips this model, so every mart)
{{ log_completeness_violations(ref('stg_command_center__workflow_events'), ref('stg_governance__slo_targets')) }}
