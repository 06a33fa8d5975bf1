{#- The nightly scope of fct_alert_episodes (doc block alert_episode_recompute in
    models/marts/alerting/_alerting__docs.md). The table carries the build state of the build that wrote
    each row (mart_build_state_columns). An incremental build
      1. deletes the episodes this build recomputes (pre_hook alert_episodes_delete_recomputed):
           slo_burn         all of them (fct_slo_alerts is a table over the SLO window, rebuilt every build);
           stuck_run        the firing ones (agg_runs_in_flight, rebuilt every build) and the resolved
                            ones of the runs with an event landed since the table's mark;
           exception_aging  those of the exceptions open now, landed since the mark, or of a run landed
                            since the mark (fct_exceptions' own key sources);
           exception_rule   latency (subject = run): those of the runs int_alert_rule_detections
                            recomputes from the same mark (alert_detection_scope_runs) and the firing
                            ones; windowed (subject null): the firing ones and those resolved after
                            windows_from (the earliest window the detections can have changed in, less
                            the longest window of the rules);
      2. refreshes the as_of state of the rows it keeps (pre_hook alert_episodes_refresh_kept): as_of_ts,
         error_budget_intact, is_silenced, silenced_until;
      3. computes the same scope (the model's where clauses, alert_episode_in_scope) and appends it.
    Everything (mark none) when the table is empty, at parse, in a unit test, and when
    mart_recompute_everything holds (register changed, as_of pinned now or then, retention cut events). -#}


{#- Literals read when the model is compiled, before the pre_hooks run (so the model and the delete see
    the same scope): mark (the table's _loaded_through), last_as_of (the last build's as_of) and
    windows_from (two timestamps: a windowed episode resolved after either may change), or mark none. -#}
{% macro alert_episode_scope() -%}
{%- set detection_scope = alert_detection_scope() -%}
{%- if detection_scope.mark is none -%}
    {{ return({'mark': none}) }}
{%- endif -%}
{%- set row = run_query(
    'select cast(max(_as_of_ts) as ' ~ dbt.type_string() ~ '), (select coalesce(max(window_hours), 0) * 3600.0 from '
    ~ ref('stg_governance__alert_rules') ~ ') from ' ~ this
).rows[0] -%}
{%- set window_seconds = row[1] | float -%}
{{ return({
    'mark': detection_scope.mark,
    'last_as_of': "cast('" ~ row[0] ~ "' as timestamp)",
    'windows_from': [timestamp_add_seconds(detection_scope.quality_from, -window_seconds),
                     timestamp_add_seconds(detection_scope.volume_from, -window_seconds)],
}) }}
{%- endmacro %}


{#- The runs with an event landed since the mark (a query: workflow_id, run_id, or the given columns of
    int_runs_summarized). -#}
{% macro alert_episode_touched_runs(mark, columns='workflow_id, run_id') -%}
select {{ columns }}
from {{ ref('int_runs_summarized') }}
where max_loaded_at > {{ mark }}
{%- endmacro %}


{#- The exceptions whose aging episodes an incremental build recomputes (a query: exception_id): open
    now (their age moves with as_of), or recomputed by fct_exceptions since the mark (its key sources). -#}
{% macro alert_episode_scope_exceptions(mark) -%}
select exception_id
from {{ ref('fct_exceptions') }}
where resolved_at is null
union
select exception_id
from {{ ref('fct_exceptions') }}
where exception_id in (
    select exception_id
    from {{ ref('int_exceptions_summarized') }}
    where max_loaded_at > {{ mark }}
)
union
select exception_id
from {{ ref('fct_exceptions') }}
where {{ matches_query_row('workflow_id, run_id', alert_episode_touched_runs(mark)) | indent(4) }}
{%- endmacro %}


{#- The pre_hook of fct_alert_episodes: delete what this build recomputes (everything when the scope's
    mark is none; a no-op on a full build). A condition on the table's rows; the model's where clauses
    (alert_episode_in_scope) select the same episodes from the candidates: an old firing row is replaced
    by its run / exception / island being in scope, a resolved row outside the scope is final. -#}
{% macro alert_episodes_delete_recomputed() -%}
{%- if is_incremental() -%}
{%- set scope = alert_episode_scope() -%}
delete from {{ this }}
{%- if scope.mark is not none %}
where alert_source = 'slo_burn'
    or (
        alert_source = 'stuck_run'
        and (
            status = 'firing'
            or {{ matches_query_row('workflow_id, subject', alert_episode_touched_runs(scope.mark), 'workflow_id, run_id') | indent(12) }}
        )
    )
    or (
        alert_source = 'exception_aging'
        and {{ matches_query_row('subject', alert_episode_scope_exceptions(scope.mark), 'exception_id') | indent(8) }}
    )
    or (
        alert_source = 'exception_rule' and subject is not null
        and (
            status = 'firing'
            or {{ matches_query_row('workflow_id, subject', alert_detection_scope_runs(scope.mark), 'workflow_id, run_id') | indent(12) }}
        )
    )
    or (
        alert_source = 'exception_rule' and subject is null
        and (status = 'firing' or resolved_at > {{ scope.windows_from[0] }} or resolved_at > {{ scope.windows_from[1] }})
    )
{%- endif -%}
{%- endif -%}
{%- endmacro %}


{#- In the model: the candidates of one source that an incremental build recomputes (the rows the pre_hook
    deleted); true on a full build. source: 'rule' (columns of int_alert_rule_episodes), 'aging'
    (fct_exceptions), 'stuck_history' (fct_stage_executions, aliased stage_executions). An episode is
    firing after the last build's as_of exactly when its end (unmasked) is null or at or after it. -#}
{% macro alert_episode_in_scope(scope, source) -%}
{%- if scope.mark is none -%}
    true
{%- elif source == 'rule' -%}
    (
        subject is not null
        and (
            resolved_at is null or resolved_at >= {{ scope.last_as_of }}
            or {{ matches_query_row('workflow_id, subject', alert_detection_scope_runs(scope.mark), 'workflow_id, run_id') | indent(12) }}
        )
    )
    or (
        subject is null
        and (resolved_at is null or resolved_at > {{ scope.windows_from[0] }} or resolved_at > {{ scope.windows_from[1] }})
    )
{%- elif source == 'aging' -%}
    {{ matches_query_row('exception_id', alert_episode_scope_exceptions(scope.mark)) }}
{%- elif source == 'stuck_history' -%}
    {{ matches_query_row('stage_executions.workflow_id, stage_executions.run_id', alert_episode_touched_runs(scope.mark)) }}
{%- else -%}
    {{ exceptions.raise_compiler_error('alert_episode_in_scope: unknown source ' ~ source) }}
{%- endif -%}
{%- endmacro %}


{#- The silences matching each episode at as_of (doc alert_silence): a query of episode_key,
    has_open_ended_silence, latest_until. episodes: a relation or subquery alias with episode_key,
    alert_source, workflow_id, alert_name, subject; as_of_ts: the instant (an expression). -#}
{% macro alert_episode_silenced(episodes, as_of_ts) -%}
select
        {{ episodes }}.episode_key,
        max(case when silences.until is null then 1 else 0 end) as has_open_ended_silence,
        max(silences.until) as latest_until

    from {{ episodes }}
    inner join {{ ref('stg_governance__alert_silences') }} as silences
        on {{ episodes }}.alert_source = silences.alert_source
        and {{ episodes }}.workflow_id = silences.workflow_id
        and (silences.alert_name is null or {{ episodes }}.alert_name = silences.alert_name)
        and (silences.subject is null or {{ episodes }}.subject = silences.subject)
        and (silences.starts_at is null or silences.starts_at <= {{ as_of_ts }})
        and (silences.until is null or silences.until > {{ as_of_ts }})
    group by {{ episodes }}.episode_key
{%- endmacro %}


{#- The second pre_hook of fct_alert_episodes: the rows the first one kept take this build's as_of state
    (as_of_ts, the workflow's error budget, the silences at as_of); their other columns cannot have
    changed (alert_episodes_delete_recomputed). A no-op on a full build and after a delete of everything. -#}
{% macro alert_episodes_refresh_kept() -%}
{%- if is_incremental() -%}
update {{ this }}
set
    as_of_ts = refreshed.as_of_ts,
    error_budget_intact = refreshed.error_budget_intact,
    is_silenced = refreshed.is_silenced,
    silenced_until = refreshed.silenced_until
from (
    with

    kept as (

        select
            episodes.episode_key,
            episodes.alert_source,
            episodes.alert_name,
            episodes.workflow_id,
            episodes.subject,
            as_of.as_of_ts
        from {{ this }} as episodes
        cross join {{ ref('int_as_of') }} as as_of

    ),

    silenced as (

        {{ alert_episode_silenced('kept', 'kept.as_of_ts') }}

    )

    select
        kept.episode_key,
        kept.as_of_ts,
        coalesce(budget_status.error_budget_intact, true) as error_budget_intact,
        silenced.episode_key is not null as is_silenced,
        case when silenced.has_open_ended_silence = 0 then silenced.latest_until end as silenced_until
    from kept
    left join {{ ref('int_alert_error_budgets') }} as budget_status
        on kept.workflow_id = budget_status.workflow_id
    left join silenced
        on kept.episode_key = silenced.episode_key
) as refreshed
where {{ this }}.episode_key = refreshed.episode_key
{%- endif -%}
{%- endmacro %}
