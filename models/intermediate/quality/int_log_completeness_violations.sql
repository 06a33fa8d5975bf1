{#- One row per log-completeness violation (every check): the same SQL the log_completeness_* tests on
    stg_command_center__workflow_events run (macros/quality/log_completeness/log_completeness_violations.sql).
    The rules: doc blocks log_completeness_* in models/marts/quality/_quality__docs.md.

    Incremental (_int_quality__models.yml): a plain build, a full refresh and the weekly full check
    recompute every check from every event (the pre_hook empties the table); the nightly build
    (selector nightly) recomputes the per-run checks of the runs the new loads touch, from all their
    events, and the workflow-level checks whole, and replaces those rows
    (macros/quality/log_completeness/log_completeness_nightly_scope.sql). -#}
-- depends_on: {{ ref('int_load_ledger_mismatches') }} (the ledger gate: assert_load_ledger_matches_loaded_events failing skips this model, so every mart)
{{ log_completeness_violations(
    ref('stg_command_center__workflow_events'),
    ref('stg_governance__slo_targets'),
    log_completeness_nightly_scope(ref('stg_command_center__workflow_events')),
) }}
