{#- The nightly scope of the log-completeness gate (int_log_completeness_violations, incremental): in the
    nightly build (selector nightly) the per-run checks (one_run_started, one_terminal_event,
    nothing_after_run_end, exception_follow_up_after_raise, no_future_events) are recomputed for the
    touched runs only, from ALL the events of those runs, and their rows replaced; the workflow-level
    checks (daily_volume, no_silent_days, freshness) are recomputed whole, from a narrow per-workflow-day
    aggregate of every event. Every other build (plain `dbt build`, a full refresh, the weekly full check)
    recomputes every check from every event. A run's per-run violations depend on its own events and on
    three things outside them, each of which puts the run in scope:
      - new events: the runs with an event loaded after the last passing check (the watermark of
        macros/nightly/nightly_build.sql, as a literal: DuckDB prunes the scan with zone maps; a night
        that failed records no mark, so its runs are recomputed again the next night);
      - the clock: an event dated more than the skew after the current time is future-dated only until
        time catches up (the flag only ever clears), so the runs holding a no_future_events row are
        recomputed every night (a literal list, read from this table before its pre_hook deletes);
      - the workflow's edge (its earliest current event; edge runs are exempt from one_run_started and
        from a missing exception_raised): a workflow with a new event earlier than its earliest old one
        has all its runs recomputed; a retention purge moves the edge later, and is followed by a
        full-refresh build (orchestration/lib/retention.py);
      - an exception's raise: the runs holding a follow-up of an exception raised by a new event.
    Changing a check's setting (dbt vars log_completeness_*) takes a full build: the weekly full check. -#}


{#- Above this many runs with a future-dated event, the nightly build recomputes every run (the list
    is a literal). -#}
{% macro log_completeness_max_literal_runs() -%}
    {{ return(500) }}
{%- endmacro %}


{#- none: recompute every check from every event (not the nightly build, not incremental, no passing
    check yet, or too many future-dated runs); else a dict: new_events (an SQL condition on the events:
    loaded after the mark), future_runs (a list of [workflow_id, run_id]), edge_workflows (a list of
    workflow_id). Read at run time, before the pre_hook deletes the touched runs' rows. -#}
{% macro log_completeness_nightly_scope(events_relation) -%}
{%- if not execute or model.resource_type == 'unit_test' or not is_incremental() or not is_nightly_build() -%}
    {{ return(none) }}
{%- endif -%}
{%- if checked_watermark_literal() is none -%}
    {{ return(none) }}
{%- endif -%}
{%- set new_events = touched_since_last_check_literal('loaded_at') -%}
{%- set s = log_completeness_settings() -%}
{%- set skew_seconds = (s.max_future_skew_hours * 3600) | float -%}
{%- set future_rows = run_query(
    "select distinct workflow_id, run_id from " ~ this
    ~ " where check_name = 'no_future_events' and run_id is not null order by 1, 2 limit "
    ~ (log_completeness_max_literal_runs() + 1)
) -%}
{%- if future_rows.rows | length > log_completeness_max_literal_runs() -%}
    {{ return(none) }}
{%- endif -%}
{#- the workflows whose edge a new event moved: a new current event earlier than every old current event -#}
{%- set edge_rows = run_query(
    "select workflow_id from " ~ events_relation
    ~ " where not (coalesce(event_ts > " ~ timestamp_add_seconds('loaded_at', skew_seconds) ~ ", false)"
    ~ " or event_ts > " ~ timestamp_add_seconds(current_timestamp_utc(), skew_seconds) ~ ")"
    ~ " group by workflow_id"
    ~ " having min(case when " ~ new_events ~ " then event_ts end)"
    ~ " < min(case when not " ~ new_events ~ " then event_ts end)"
    ~ " order by 1"
) -%}
{{ return({
    'new_events': new_events,
    'future_runs': future_rows.rows | map('list') | list,
    'edge_workflows': edge_rows.columns[0].values() | list,
}) }}
{%- endmacro %}


{#- SQL literal of a string -#}
{% macro log_completeness_quote(value) -%}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{%- endmacro %}


{#- A select of the touched runs (workflow_id, run_id; distinct) of a nightly scope. -#}
{% macro log_completeness_touched_runs_sql(events_relation, scope) -%}
select workflow_id, run_id
from {{ events_relation }}
where {{ scope.new_events }}

union

-- the runs holding a follow-up of an exception raised by a new event
select workflow_id, run_id
from {{ events_relation }}
where event_type in ('exception_acknowledged', 'exception_resolved')
    and exception_id in (
        select exception_id
        from {{ events_relation }}
        where event_type = 'exception_raised'
            and {{ scope.new_events }}
    )
{%- if scope.future_runs %}

union

-- the runs with a future-dated event at the last build (the clock moved)
select workflow_id, run_id
from {{ events_relation }}
where {% for run in scope.future_runs -%}
    (workflow_id = {{ log_completeness_quote(run[0]) }} and run_id = {{ log_completeness_quote(run[1]) }})
    {%- if not loop.last %}
    or {% endif %}
{%- endfor %}
{%- endif %}
{%- if scope.edge_workflows %}

union

-- every run of a workflow whose edge a new event moved
select workflow_id, run_id
from {{ events_relation }}
where workflow_id in (
    {%- for workflow in scope.edge_workflows -%}
    {{ log_completeness_quote(workflow) }}{{ ', ' if not loop.last }}
    {%- endfor -%}
)
{%- endif %}
{%- endmacro %}


{#- The pre_hook of int_log_completeness_violations: an incremental run deletes every row (a full
    recompute) or, in the nightly build, the touched runs' rows and the workflow-level checks' rows. -#}
{% macro log_completeness_violations_pre_hook() -%}
{%- if is_incremental() -%}
{%- set events_relation = ref('stg_command_center__workflow_events') -%}
{%- set scope = log_completeness_nightly_scope(events_relation) -%}
delete from {{ this }}
{%- if scope is not none %}
where check_name in ('daily_volume', 'no_silent_days', 'freshness')
    or {{ matches_query_row('workflow_id, run_id', log_completeness_touched_runs_sql(events_relation, scope)) | indent(4) }}
{%- endif -%}
{%- endif -%}
{%- endmacro %}
