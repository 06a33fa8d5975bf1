{#- One row per load x workflow_id x reason_code: how many rows of the load were quarantined for
    that reason. Only the quarantine's keys and reason are read, never raw_record or reason_detail
    (they can hold the unredacted input). Definitions: doc blocks in _landing__docs.md. -#}
-- behind the log-completeness and ledger gate, like every mart: a tampered ledger skips it
-- depends_on: {{ ref('int_log_completeness_violations') }}

with

quarantine as (

    -- the columns this mart may carry, and nothing else of the quarantined row
    select
        load_id,
        workflow_id,
        reason_code,
        source_row_number,
        quarantined_at

    from {{ ref('stg_command_center__quarantine') }}

),

final as (

    select
        load_id,
        workflow_id,
        reason_code,
        cast(count(*) as bigint) as rows_quarantined,
        min(source_row_number) as first_source_row_number,
        max(quarantined_at) as quarantined_at

    from quarantine
    group by load_id, workflow_id, reason_code

)

select * from final
