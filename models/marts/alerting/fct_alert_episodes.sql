{#- One row per alert episode: a condition that started holding at fired_at and, when it cleared,
    resolved_at. The one mart the dispatcher reads (orchestration/lib/alerting, docs/alerting.md).
    Four sources: exception rules (fct_detected_exceptions' episodes), SLO burn (fct_slo_alerts),
    exception aging (fct_exceptions past the register's aging threshold) and stuck runs
    (agg_runs_in_flight firing; telemetry stage attempts that ended past the threshold resolved).
    Routing, escalation, runbook, silences and the error budget are joined here.
    Definitions: doc blocks in _alerting__docs.md (alert_episode and the column blocks).
    Incremental: a nightly build recomputes only the episodes new loads and the move of as_of can change
    (the where clauses alert_episode_in_scope), after its pre_hooks deleted the same scope and refreshed
    the as_of state of the rows kept (macros/alerting/alert_episode_scope.sql, doc block
    alert_episode_recompute); equal to a full build. -#}

-- depends_on: {{ ref('int_runs_summarized') }}
-- depends_on: {{ ref('int_exceptions_summarized') }}
-- depends_on: {{ ref('stg_command_center__workflow_events') }}
-- depends_on: {{ ref('int_log_completeness_violations') }}
-- depends_on: {{ ref('stg_governance__alert_rules') }}
-- (the incremental scope's reads: macros/alerting/alert_episode_scope.sql; a reader of the events is
-- behind the log-completeness gate)
{%- set stuck_floor = stuck_threshold_floor_seconds() %}
{%- set scope = alert_episode_scope() %}
{%- set stage_floor = none %}
{%- if scope.mark is not none %}
{#- the first event of the touched runs: a literal that prunes the stage-attempt scan by zone maps (an
    attempt of a run starts at or after the run's first event; the rows are the same without it) -#}
{%- set stage_floor = run_events_scan_floor(
    alert_episode_touched_runs(scope.mark, 'first_event_at'),
    requires=[ref('int_runs_summarized')]) %}
{%- endif %}

with

rule_episodes as (

    select * from {{ ref('int_alert_rule_episodes') }}

),

slo_alerts as (

    select * from {{ ref('fct_slo_alerts') }}

),

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

in_flight as (

    select * from {{ ref('agg_runs_in_flight') }}

),

workflows as (

    select * from {{ ref('dim_workflows') }}

),

stage_executions as (

    select * from {{ ref('fct_stage_executions') }}

),

runs as (

    select * from {{ ref('fct_workflow_runs') }}

),

stuck_thresholds as (

    select * from {{ ref('stg_governance__stuck_thresholds') }}

),

budget_status as (

    select * from {{ ref('int_alert_error_budgets') }}

),

severities as (

    select * from {{ ref('stg_governance__alert_severities') }}

),

runbooks as (

    select * from {{ ref('stg_governance__alert_runbooks') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

rule_candidates as (

    select
        'exception_rule' as alert_source,
        rule_name as alert_name,
        workflow_id,
        region,
        subject,
        severity,
        fired_at,
        resolved_at,
        owner,
        owner_role,
        runbook_url,
        exception_class,
        summary,
        evidence

    from rule_episodes
    where {{ alert_episode_in_scope(scope, 'rule') }}

),

slo_candidates as (

    select
        'slo_burn' as alert_source,
        slo_alerts.alert_name,
        slo_alerts.workflow_id,
        cast(null as {{ dbt.type_string() }}) as region,
        slo_alerts.sli as subject,
        slo_alerts.severity,
        slo_alerts.fired_at,
        slo_alerts.resolved_at,
        coalesce(workflows.service_owner, 'unassigned') as owner,
        'workflow_service_owner' as owner_role,
        cast(null as {{ dbt.type_string() }}) as runbook_url,
        cast(null as {{ dbt.type_string() }}) as exception_class,
        slo_alerts.workflow_id || ' burns its ' || slo_alerts.sli || ' error budget at '
            || {{ alert_number_text('slo_alerts.peak_long_burn_rate', 1) }} || 'x over '
            || slo_alerts.long_window_label || ' (threshold '
            || {{ alert_number_text('slo_alerts.burn_rate_threshold', 1) }} || 'x)' as summary,  -- noqa: RF04
        {{ alert_json_object([
            ('sli', alert_json_string('slo_alerts.sli')),
            ('long_window', alert_json_string('slo_alerts.long_window_label')),
            ('short_window', alert_json_string('slo_alerts.short_window_label')),
            ('burn_rate_threshold', alert_json_number('slo_alerts.burn_rate_threshold')),
            ('long_burn_rate_at_fire', alert_json_number('slo_alerts.long_burn_rate_at_fire')),
            ('short_burn_rate_at_fire', alert_json_number('slo_alerts.short_burn_rate_at_fire')),
            ('peak_long_burn_rate', alert_json_number('slo_alerts.peak_long_burn_rate')),
            ('objective_pct', alert_json_number('slo_alerts.objective_pct')),
            ('budget_remaining_pct', alert_json_number('slo_alerts.budget_remaining_pct')),
        ]) }} as evidence

    from slo_alerts
    left join workflows
        on slo_alerts.workflow_id = workflows.workflow_id

),

aging_candidates as (

    -- an open exception older than its severity's aging threshold; resolved when the exception resolves
    select
        'exception_aging' as alert_source,
        'exception_aging_sev' || cast(severity as {{ dbt.type_string() }}) as alert_name,
        workflow_id,
        region,
        exception_id as subject,
        {{ alert_severity_from_sev('severity') }} as severity,
        {{ timestamp_add_seconds('raised_at', 'aging_alert_threshold_seconds') }} as fired_at,
        resolved_at,
        routed_owner as owner,
        routing_source as owner_role,
        cast(null as {{ dbt.type_string() }}) as runbook_url,
        exception_class,
        'exception ' || exception_id || ' (' || coalesce(exception_class, 'no class') || ', sev'
            || coalesce(cast(severity as {{ dbt.type_string() }}), '?') || ') of ' || workflow_id
            || ' open longer than ' || {{ alert_number_text('aging_alert_threshold_seconds / 60.0', 0) }}
            || ' min' as summary,  -- noqa: RF04
        {{ alert_json_object([
            ('exception_id', alert_json_string('exception_id')),
            ('run_id', alert_json_string('run_id')),
            ('exception_class', alert_json_string('exception_class')),
            ('raised_at', alert_json_string(alert_timestamp_text('raised_at'))),
            ('aging_threshold_seconds', alert_json_number('aging_alert_threshold_seconds')),
            ('age_seconds', alert_json_number('coalesce(time_to_resolution_seconds, age_seconds)')),
        ]) }} as evidence

    from exceptions
    where {{ alert_episode_in_scope(scope, 'aging') }}
        and aging_alert_threshold_seconds is not null
        and coalesce(time_to_resolution_seconds, age_seconds) > aging_alert_threshold_seconds

),

stuck_candidates as (

    -- an in-flight run in one state past its stuck threshold, as of as_of (the mart keeps no history:
    -- an episode whose run moved on leaves this mart, docs/alerting.md)
    select
        'stuck_run' as alert_source,
        'stuck_run' as alert_name,
        in_flight.workflow_id,
        in_flight.region,
        in_flight.run_id as subject,
        'ticket' as severity,
        {{ timestamp_add_seconds('in_flight.state_entered_at', 'in_flight.stuck_threshold_seconds') }} as fired_at,
        cast(null as timestamp) as resolved_at,
        coalesce(workflows.service_owner, in_flight.owner, 'unassigned') as owner,
        case
            when workflows.service_owner is not null then 'workflow_service_owner'
            when in_flight.owner is not null then 'run_owner'
            else 'unassigned'
        end as owner_role,
        cast(null as {{ dbt.type_string() }}) as runbook_url,
        cast(null as {{ dbt.type_string() }}) as exception_class,
        'run ' || in_flight.run_id || ' of ' || in_flight.workflow_id || ' stuck in '
            || coalesce(in_flight.current_stage, in_flight.last_event_type, '?') || ' for '
            || {{ alert_number_text('in_flight.seconds_in_state / 60.0', 0) }} || ' min' as summary,  -- noqa: RF04
        {{ alert_json_object([
            ('run_id', alert_json_string('in_flight.run_id')),
            ('current_stage', alert_json_string('in_flight.current_stage')),
            ('waits_on', alert_json_string('in_flight.waits_on')),
            ('state_entered_at', alert_json_string(alert_timestamp_text('in_flight.state_entered_at'))),
            ('seconds_in_state', alert_json_number('in_flight.seconds_in_state')),
            ('stuck_threshold_seconds', alert_json_number('in_flight.stuck_threshold_seconds')),
        ]) }} as evidence

    from in_flight
    left join workflows
        on in_flight.workflow_id = workflows.workflow_id
    where in_flight.is_stuck

),

stuck_history_candidates as (

    -- a telemetry stage attempt that ended by as_of after more than the stuck threshold of its
    -- workflow x stage (else workflow-wide): a stuck episode that resolved when the attempt ended
    select
        'stuck_run' as alert_source,
        'stuck_run' as alert_name,
        stage_executions.workflow_id,
        runs.region,
        stage_executions.run_id as subject,
        'ticket' as severity,
        {{ timestamp_add_seconds('stage_executions.started_at',
            'coalesce(stage_thresholds.threshold_seconds, workflow_thresholds.threshold_seconds)') }} as fired_at,
        stage_executions.ended_at as resolved_at,
        coalesce(workflows.service_owner, runs.owner, 'unassigned') as owner,
        case
            when workflows.service_owner is not null then 'workflow_service_owner'
            when runs.owner is not null then 'run_owner'
            else 'unassigned'
        end as owner_role,
        cast(null as {{ dbt.type_string() }}) as runbook_url,
        cast(null as {{ dbt.type_string() }}) as exception_class,
        'run ' || stage_executions.run_id || ' of ' || stage_executions.workflow_id || ' was stuck in '
            || stage_executions.stage || ' for '
            || {{ alert_number_text('stage_executions.duration_seconds / 60.0', 0) }} || ' min' as summary,  -- noqa: RF04
        {{ alert_json_object([
            ('run_id', alert_json_string('stage_executions.run_id')),
            ('current_stage', alert_json_string('stage_executions.stage')),
            ('attempt', alert_json_number('stage_executions.attempt')),
            ('state_entered_at', alert_json_string(alert_timestamp_text('stage_executions.started_at'))),
            ('seconds_in_state', alert_json_number('stage_executions.duration_seconds')),
            ('stuck_threshold_seconds', alert_json_number(
                'coalesce(stage_thresholds.threshold_seconds, workflow_thresholds.threshold_seconds)')),
        ]) }} as evidence

    from stage_executions
    inner join runs
        on stage_executions.workflow_id = runs.workflow_id
        and stage_executions.run_id = runs.run_id
    left join stuck_thresholds as stage_thresholds
        on stage_executions.workflow_id = stage_thresholds.workflow_id
        and stage_executions.stage = stage_thresholds.stage
    left join stuck_thresholds as workflow_thresholds
        on stage_executions.workflow_id = workflow_thresholds.workflow_id
        and workflow_thresholds.stage is null
    left join workflows
        on stage_executions.workflow_id = workflows.workflow_id
    cross join as_of
    where {{ alert_episode_in_scope(scope, 'stuck_history') }}
        {%- if stage_floor is not none %}
        and stage_executions.started_at >= {{ stage_floor }}
        {%- endif %}
        and stage_executions.log_format = 'telemetry'
        and stage_executions.ended_at <= as_of.as_of_ts
        {%- if stuck_floor is not none %}
        -- a literal (the least threshold) the scan applies before the join to the runs
        and stage_executions.duration_seconds > {{ stuck_floor }}
        {%- endif %}
        and stage_executions.duration_seconds
        > coalesce(stage_thresholds.threshold_seconds, workflow_thresholds.threshold_seconds)

),

candidates as (

    select * from rule_candidates
    union all
    select * from slo_candidates
    union all
    select * from aging_candidates
    union all
    select * from stuck_candidates
    union all
    select * from stuck_history_candidates

),

keyed as (

    select
        {{ surrogate_key([
            'candidates.alert_source', 'candidates.alert_name', 'candidates.workflow_id',
            "coalesce(candidates.region, '')", "coalesce(candidates.subject, '')",
            alert_timestamp_text('candidates.fired_at'),
        ]) }} as episode_key,
        candidates.*,
        as_of.as_of_ts

    from candidates
    cross join as_of
    -- an episode exists once it fired by as_of; one that resolved later is still firing as of as_of
    where candidates.fired_at <= as_of.as_of_ts

),

silenced as (

    -- the register's silences that match an episode at as_of (doc alert_silence)
    -- (one definition with the pre_hook that refreshes the kept rows: alert_episode_silenced)
    {{ alert_episode_silenced('keyed', 'keyed.as_of_ts') }}

),

final as (

    select
        keyed.episode_key,
        keyed.alert_source,
        keyed.alert_name,
        keyed.workflow_id,
        keyed.region,
        keyed.subject,
        keyed.severity,
        case
            when keyed.resolved_at is not null and keyed.resolved_at <= keyed.as_of_ts then 'resolved'
            else 'firing'
        end as status,
        keyed.fired_at,
        case when keyed.resolved_at <= keyed.as_of_ts then keyed.resolved_at end as resolved_at,
        keyed.owner,
        keyed.owner_role,
        cast(severities.response_target_minutes as double) as response_target_minutes,
        coalesce(keyed.runbook_url, class_runbooks.runbook_url, source_runbooks.runbook_url) as runbook_url,
        severities.escalation_path,
        coalesce(budget_status.error_budget_intact, true) as error_budget_intact,
        silenced.episode_key is not null as is_silenced,
        case when silenced.has_open_ended_silence = 0 then silenced.latest_until end as silenced_until,
        keyed.summary,
        keyed.evidence,
        keyed.as_of_ts,
        {{ mart_build_state_columns() }}

    from keyed
    cross join build_state
    left join severities
        on keyed.severity = severities.severity
    left join runbooks as class_runbooks
        on class_runbooks.scope = 'exception_class'
        and keyed.exception_class = class_runbooks.scope_key
    left join runbooks as source_runbooks
        on source_runbooks.scope = 'alert_source'
        and keyed.alert_source = source_runbooks.scope_key
    left join budget_status
        on keyed.workflow_id = budget_status.workflow_id
    left join silenced
        on keyed.episode_key = silenced.episode_key

)

select * from final
