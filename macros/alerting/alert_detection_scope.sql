{#- The nightly scope of int_alert_rule_detections (doc block alert_detection_recompute in
    models/marts/alerting/_alerting__docs.md). The table carries the build state of the build that wrote
    each row (mart_build_state_columns); an incremental build recomputes, from ALL the inputs of what it
    recomputes, exactly what the new loads and the move of as_of can change, and keeps the rest:
      - per-run kinds (latency, completeness, conformance): the runs with an event landed since the
        table's mark (int_runs_summarized.max_loaded_at > _loaded_through: a late event of any age
        recomputes its whole run) and the runs not ended, among them every run with a stage attempt still
        open (its measured span runs to as_of, so it moves with as_of);
      - quality windows: every window from the one holding quality_from, the earliest of the touched
        runs' first events (a touched run's ended_at, old or new, is not earlier) and the last build's
        as_of (windows ended since became detectable);
      - volume windows: every window from the one holding volume_from, the earliest of the new loads'
        events and the last build's as_of; a window's baseline reads the baseline_windows before it, so
        the event scan starts volume_scan_from = volume_from less the longest (baseline_windows + 1) x
        window_hours of the volume rules (a workflow's first window, which gates the baseline, is read
        from all its runs' first events in int_runs_summarized: a new earlier event moves it, and only
        windows from its own on change).
    Everything (mark none) when the table is empty, at parse, in a unit test, and when
    mart_recompute_everything holds (register changed, as_of pinned now or then, retention cut events). -#}


{#- Literals read before the pre_hook deletes anything (the pre_hook and the model read the same table,
    so both see the same scope): mark, quality_from, volume_from, volume_scan_from (SQL timestamp
    literals), or mark none (recompute everything). -#}
{% macro alert_detection_scope() -%}
{%- set everything = {'mark': none, 'quality_from': none, 'volume_from': none, 'volume_scan_from': none} -%}
{%- if not execute or model.resource_type == 'unit_test' or not is_incremental() -%}
    {{ return(everything) }}
{%- endif -%}
{%- set mark = mart_kept_loaded_through() -%}
{%- if mark is none -%}
    {{ return(everything) }}
{%- endif -%}
{%- set scope_query -%}
select
    (
        select cast(min(candidate_at) as varchar) from (
            select min(first_event_at) as candidate_at
            from {{ ref('int_runs_summarized') }}
            where max_loaded_at > {{ mark }}
            union all
            select max(_as_of_ts) as candidate_at from {{ this }}
        ) as quality_candidates
    ) as quality_from,
    (
        select cast(min(candidate_at) as varchar) from (
            select min(event_ts) as candidate_at
            from {{ ref('stg_command_center__workflow_events') }}
            where loaded_at > {{ mark }}
            union all
            select max(_as_of_ts) as candidate_at from {{ this }}
        ) as volume_candidates
    ) as volume_from,
    (
        select coalesce(max((baseline_windows + 1) * window_hours), 0) * 3600.0
        from {{ ref('stg_governance__alert_rules') }}
        where kind = 'volume'
    ) as volume_lookback_seconds
{%- endset -%}
{%- set row = run_query(scope_query).rows[0] -%}
{%- set quality_from = "cast('" ~ row[0] ~ "' as timestamp)" if row[0] is not none else mark -%}
{%- set volume_from = "cast('" ~ row[1] ~ "' as timestamp)" if row[1] is not none else mark -%}
{%- set volume_scan_from = timestamp_add_seconds(volume_from, -(row[2] | float)) -%}
{{ return({'mark': mark, 'quality_from': quality_from, 'volume_from': volume_from,
           'volume_scan_from': volume_scan_from}) }}
{%- endmacro %}


{#- The runs whose per-run detections an incremental build recomputes (a query: workflow_id, run_id): the
    runs with an event landed since the mark, and the runs not ended. The second is a superset of the runs
    with a stage attempt still open (fct_stage_executions.ended_at null: its outcome is in_flight, which
    needs its run's ended_at null in int_runs_summarized); recomputing a few more runs whole gives the same
    rows, and it is read from one row per run instead of every stage attempt of the history. -#}
{% macro alert_detection_scope_runs(mark) -%}
select workflow_id, run_id
from {{ ref('int_runs_summarized') }}
where max_loaded_at > {{ mark }}
    or ended_at is null
{%- endmacro %}


{#- The pre_hook of int_alert_rule_detections: delete what this build recomputes (everything when the
    scope's mark is none; a no-op on a full build). -#}
{% macro alert_detections_delete_recomputed() -%}
{%- if is_incremental() -%}
{%- set scope = alert_detection_scope() -%}
delete from {{ this }}
{%- if scope.mark is not none %}
where (
        rule_kind in ('latency', 'completeness', 'conformance')
        and {{ matches_query_row('workflow_id, subject', alert_detection_scope_runs(scope.mark), 'workflow_id, run_id') | indent(8) }}
    )
    or (
        rule_kind = 'quality'
        and window_start >= {{ alert_window_start(alert_window_index(scope.quality_from, 'window_hours'), 'window_hours') }}
    )
    or (
        rule_kind = 'volume'
        and window_start >= {{ alert_window_start(alert_window_index(scope.volume_from, 'window_hours'), 'window_hours') }}
    )
{%- endif -%}
{%- endif -%}
{%- endmacro %}


{#- fct_detected_exceptions follows int_alert_rule_detections row for row (doc block
    alert_detection_recompute). Its pre_hook deletes the rows whose detection the detections' builds since
    this table's mark (mart_kept_loaded_through, the _loaded_through of its last build) rewrote or
    removed: it keeps exactly the rows whose detection_key is a detection written at or before the mark;
    the model then computes the detections written after it. Everything when the mark is none; a no-op on
    a full build. -#}
{% macro detected_exceptions_delete_recomputed() -%}
{%- if is_incremental() -%}
{%- set mark = mart_kept_loaded_through() -%}
delete from {{ this }}
{%- if mark is not none %}
where detection_key not in (
    select detection_key
    from {{ ref('int_alert_rule_detections') }}
    where _loaded_through <= {{ mark }}
)
{%- endif -%}
{%- endif -%}
{%- endmacro %}


{#- The second pre_hook of fct_detected_exceptions: the rows the first one kept take this build's as_of
    (their other columns cannot have changed). A no-op on a full build and after a delete of everything. -#}
{% macro detected_exceptions_refresh_kept() -%}
{%- if is_incremental() -%}
update {{ this }}
set as_of_ts = as_of.as_of_ts
from {{ ref('int_as_of') }} as as_of
{%- endif -%}
{%- endmacro %}
