{{ config(severity='error') }}
{#- Every load's events match the ledger: count and content fingerprint (int_load_ledger_mismatches
    says what is compared and what a retention purge may remove). An error: a failing run of this
    test skips int_load_ledger_mismatches' descendants, int_log_completeness_violations and so every
    fact and mart, as the log-completeness gate does. -#}

select * from {{ ref('int_load_ledger_mismatches') }}
