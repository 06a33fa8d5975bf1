{#- The post_hook of the per-run stage summaries (int_stage_attempts_summarized,
    int_approvals_summarized, int_run_outcomes_summarized), after an incremental run: delete the rows
    of runs that retention cut and that the run did not replace. A cut run (its first event older than
    the earliest event left) is recomputed (incremental_scope_ctes' touched keys, which read these
    rows - hence after the run, not before), and its new rows start at or after the earliest event
    left. But unlike int_runs_summarized these tables hold several rows per run, or none: a run left
    with no stage or approval event yields no row, and delete+insert only replaces the keys it
    inserts, so its old rows - the only ones still older than the earliest event - are deleted here.
    Covers incremental_delete_stale_rows' case too (runs that lost every event). A no-op on a full
    build. -#}
{% macro incremental_delete_purged_runs() -%}
{%- if is_incremental() -%}
delete from {{ this }}
where first_event_at < (select min(event_ts) from {{ ref('stg_command_center__workflow_events') }})
{%- endif -%}
{%- endmacro %}
