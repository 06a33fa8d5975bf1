{#- One row per detection of an exception rule of the register (alerting.exception_rules), as of as_of:
      latency       a stage attempt (fct_stage_executions) longer than threshold_minutes, wall clock or
                    business hours only; one row per attempt, detected when the threshold was crossed
      quality       a window whose failed share of ended runs is above max_error_rate_pct (>= min_runs runs)
      completeness  an ended run without the required stage, or whose events never carry the required field
      conformance   an ended case that deviates from the reference path (fct_case_conformance), or a
                    directly-follows transition the rule forbids
      volume        a window whose count of matching events is above baseline x factor (>= min_count)
    Windows: tumbling, window_hours long, aligned to 1970-01-01 00:00 UTC; only windows ended by as_of.
    Definitions: doc blocks exception_rule_* in models/marts/alerting/_alerting__docs.md.
    Incremental: a nightly build recomputes only what new loads and the move of as_of can change (the
    touched and still-open runs, the quality and volume windows from the earliest touched one), from all
    their inputs, after the pre_hook deleted the same scope (macros/alerting/alert_detection_scope.sql,
    doc block alert_detection_recompute); equal to a full build. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- depends_on: {{ ref('int_runs_summarized') }}
{%- set scope = alert_detection_scope() %}
{%- set event_floor = none %}
{%- if scope.mark is not none %}
{%- set event_floor = run_events_scan_floor(
    'select summarized.first_event_at from ' ~ ref('int_runs_summarized') ~ ' as summarized inner join ('
    ~ alert_detection_scope_runs(scope.mark) ~ ') as scope_runs on summarized.workflow_id = scope_runs.workflow_id'
    ~ ' and summarized.run_id = scope_runs.run_id',
    requires=[ref('int_runs_summarized')]) %}
{%- endif %}

with

rules as (

    select * from {{ ref('stg_governance__alert_rules') }}

),

rule_transitions as (

    select * from {{ ref('stg_governance__alert_rule_transitions') }}

),

settings as (

    select * from {{ ref('stg_governance__alert_settings') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),
{%- if scope.mark is not none %}

scope_runs as (

    -- the runs this incremental build recomputes (alert_detection_scope_runs)
    {{ alert_detection_scope_runs(scope.mark) }}

),
{%- endif %}

stage_executions as (

    select * from {{ ref('fct_stage_executions') }}

),

runs as (

    {{ runs_as_of(ref('fct_workflow_runs')) }}

),

case_events as (

    select * from {{ ref('int_case_events_sequenced') }}

),

conformance as (

    select * from {{ ref('fct_case_conformance') }}

),

-- latency ---------------------------------------------------------------------------------------

latency_attempts as (

    select
        rules.rule_name,
        rules.business_hours_only,
        rules.threshold_minutes * 60.0 as threshold_seconds,
        stage_executions.workflow_id,
        stage_executions.run_id,
        stage_executions.stage,
        stage_executions.attempt,
        stage_executions.started_at,
        stage_executions.ended_at,
        coalesce(stage_executions.ended_at, as_of.as_of_ts) as measured_to

    from stage_executions
    inner join rules
        on stage_executions.workflow_id = rules.workflow_id
        and rules.kind = 'latency'
        and (rules.stage is null or stage_executions.stage = rules.stage)
    cross join as_of
    {%- if scope.mark is not none %}
    inner join scope_runs
        on stage_executions.workflow_id = scope_runs.workflow_id
        and stage_executions.run_id = scope_runs.run_id
    {%- endif %}
    where stage_executions.started_at <= as_of.as_of_ts
        {%- if event_floor is not none %}
        -- no attempt of a scope run started before its run's first event (run_events_scan_floor): the
        -- stage attempts of the history before the scope runs are not joined
        and stage_executions.started_at >= {{ event_floor }}
        {%- endif %}

),

wall_clock_latency as (

    select
        rule_name,
        workflow_id,
        run_id,
        stage,
        attempt,
        started_at,
        measured_to,
        {{ seconds_between('started_at', 'measured_to') }} as observed_value,
        threshold_seconds,
        {{ timestamp_add_seconds('started_at', 'threshold_seconds') }} as detected_at

    from latency_attempts
    where not business_hours_only
        and {{ seconds_between('started_at', 'measured_to') }} > threshold_seconds

),

business_local as (

    -- the attempt in the register's business time zone, one row per local day it spans
    select
        latency_attempts.*,
        settings.business_timezone,
        settings.business_days as business_weekdays,
        settings.business_start_hour,
        settings.business_end_hour,
        {{ utc_to_local('latency_attempts.started_at', 'settings.business_timezone') }} as local_start,
        {{ utc_to_local('latency_attempts.measured_to', 'settings.business_timezone') }} as local_end,
        cast({{ utc_to_local('latency_attempts.started_at', 'settings.business_timezone') }} as date) as local_start_day,
        cast({{ utc_to_local('latency_attempts.measured_to', 'settings.business_timezone') }} as date) as local_end_day

    from latency_attempts
    cross join settings
    where latency_attempts.business_hours_only

),

business_spine as (

    {{ period_spine('business_local', 'local_start_day', 'local_end_day', 'day', 'local_day') }}

),

business_overlap as (

    select
        business_spine.*,
        greatest(
            local_start,
            {{ timestamp_add_seconds('cast(local_day as timestamp)', 'business_start_hour * 3600.0') }}
        ) as open_from,
        least(
            local_end,
            {{ timestamp_add_seconds('cast(local_day as timestamp)', 'business_end_hour * 3600.0') }}
        ) as open_to

    from business_spine
    where position(cast({{ iso_day_of_week('local_day') }} as {{ dbt.type_string() }}) in business_weekdays) > 0

),

business_seconds as (

    select
        business_overlap.*,
        greatest({{ seconds_between('open_from', 'open_to') }}, 0.0) as day_seconds

    from business_overlap

),

business_cumulative as (

    -- one local day: one spine row, no window
    select
        business_seconds.*,
        day_seconds as cumulative_seconds

    from business_seconds
    where local_start_day = local_end_day

    union all

    select
        business_seconds.*,
        sum(day_seconds) over (
            partition by rule_name, workflow_id, run_id, stage, attempt
            order by local_day rows between unbounded preceding and current row
        ) as cumulative_seconds

    from business_seconds
    where local_start_day < local_end_day

),

business_latency as (

    -- detected at the business instant the threshold was crossed (converted back to UTC)
    select
        rule_name,
        workflow_id,
        run_id,
        stage,
        attempt,
        started_at,
        measured_to,
        max(cumulative_seconds) as observed_value,
        max(threshold_seconds) as threshold_seconds,
        min(
            case
                when cumulative_seconds >= threshold_seconds and cumulative_seconds - day_seconds < threshold_seconds
                    then {{ local_to_utc(
                        timestamp_add_seconds('open_from', 'threshold_seconds - (cumulative_seconds - day_seconds)'),
                        'business_timezone') }}
            end
        ) as detected_at

    from business_cumulative
    group by rule_name, workflow_id, run_id, stage, attempt, started_at, measured_to
    having max(cumulative_seconds) > max(threshold_seconds)

),

latency_measured as (

    select
        wall_clock_latency.*,
        'seconds' as observed_unit,
        'false' as business_hours_only
    from wall_clock_latency
    union all
    select
        business_latency.*,
        'business_seconds' as observed_unit,
        'true' as business_hours_only
    from business_latency

),

latency_detections as (

    select
        rule_name,
        workflow_id,
        run_id as subject,
        detected_at,
        started_at as window_start,
        measured_to as window_end,
        observed_value,
        threshold_seconds as threshold_value,
        observed_unit,
        {{ alert_json_object([
            ('run_id', alert_json_string('run_id')),
            ('stage', alert_json_string('stage')),
            ('attempt', alert_json_number('attempt')),
            ('seconds', alert_json_number('observed_value')),
            ('threshold_seconds', alert_json_number('threshold_seconds')),
            ('business_hours_only', 'business_hours_only'),
        ]) }} as evidence

    from latency_measured

),

-- quality ---------------------------------------------------------------------------------------

quality_windows as (

    select
        rules.rule_name,
        rules.workflow_id,
        rules.window_hours,
        rules.max_error_rate_pct,
        rules.min_runs,
        {{ alert_window_index('runs.ended_at', 'rules.window_hours') }} as window_index,
        count(*) as ended_runs,
        sum(case when runs.final_status = 'completed' then 0 else 1 end) as failed_runs

    from runs
    inner join rules
        on runs.workflow_id = rules.workflow_id
        and rules.kind = 'quality'
    where runs.final_status in ('completed', 'failed', 'compensated')
        {%- if scope.mark is not none %}
        -- the windows from the one holding quality_from, each whole
        and runs.ended_at >= {{ alert_window_start(alert_window_index(scope.quality_from, 'rules.window_hours'), 'rules.window_hours') }}
        {%- endif %}
    group by
        rules.rule_name, rules.workflow_id, rules.window_hours, rules.max_error_rate_pct, rules.min_runs,
        {{ alert_window_index('runs.ended_at', 'rules.window_hours') }}

),

quality_detections as (

    select
        quality_windows.rule_name,
        quality_windows.workflow_id,
        cast(null as {{ dbt.type_string() }}) as subject,
        {{ alert_window_start('quality_windows.window_index + 1', 'quality_windows.window_hours') }} as detected_at,
        {{ alert_window_start('quality_windows.window_index', 'quality_windows.window_hours') }} as window_start,
        {{ alert_window_start('quality_windows.window_index + 1', 'quality_windows.window_hours') }} as window_end,
        100.0 * quality_windows.failed_runs / quality_windows.ended_runs as observed_value,
        quality_windows.max_error_rate_pct as threshold_value,
        'error_rate_pct' as observed_unit,
        {{ alert_json_object([
            ('ended_runs', alert_json_number('quality_windows.ended_runs')),
            ('failed_runs', alert_json_number('quality_windows.failed_runs')),
            ('error_rate_pct', alert_json_number('100.0 * quality_windows.failed_runs / quality_windows.ended_runs')),
            ('max_error_rate_pct', alert_json_number('quality_windows.max_error_rate_pct')),
        ]) }} as evidence

    from quality_windows
    where quality_windows.ended_runs >= quality_windows.min_runs
        and 100.0 * quality_windows.failed_runs / quality_windows.ended_runs > quality_windows.max_error_rate_pct

),

-- completeness ----------------------------------------------------------------------------------

completeness_event_counts as (

    select
        rules.rule_name,
        events.workflow_id,
        events.run_id,
        sum(case when events.stage = rules.required_stage then 1 else 0 end) as required_stage_events,
        count(
            case rules.required_field
                when 'stage' then events.stage
                when 'status' then events.status
                when 'owner' then events.owner
                when 'actor' then events.actor
                when 'duration_ms' then cast(events.duration_ms as {{ dbt.type_string() }})
                when 'cost_cents' then cast(events.cost_cents as {{ dbt.type_string() }})
                when 'confidence' then cast(events.confidence as {{ dbt.type_string() }})
                when 'error_code' then events.error_code
            end
        ) as required_field_values

    -- (not a CTE: DuckDB materialized it whole)
    from {{ ref('stg_command_center__workflow_events') }} as events
    inner join rules
        on events.workflow_id = rules.workflow_id
        and rules.kind = 'completeness'
    {%- if scope.mark is not none %}
    inner join scope_runs
        on events.workflow_id = scope_runs.workflow_id
        and events.run_id = scope_runs.run_id
    {%- if event_floor is not none %}
    -- no event of a scope run is older (run_events_scan_floor): zone maps skip older row groups
    where events.event_ts >= {{ event_floor }}
    {%- endif %}
    {%- endif %}
    group by rules.rule_name, events.workflow_id, events.run_id

),

scoped_runs as (

    -- the runs the per-run kinds (completeness, conformance) read: the scope runs of an incremental build,
    -- found by a semi-join first, so that the joins below build on a few runs, not on every run of
    -- the history
    select runs.*
    from runs
    {%- if scope.mark is not none %}
    where {{ matches_query_row('runs.workflow_id, runs.run_id', 'select workflow_id, run_id from scope_runs') | indent(4) }}
    {%- endif %}

),

completeness_runs as (

    select
        rules.rule_name,
        rules.workflow_id,
        rules.required_stage,
        rules.required_field,
        runs.run_id,
        runs.started_at,
        runs.ended_at,
        counts.required_stage_events,
        counts.required_field_values

    from scoped_runs as runs
    inner join rules
        on runs.workflow_id = rules.workflow_id
        and rules.kind = 'completeness'
    inner join completeness_event_counts as counts
        on rules.rule_name = counts.rule_name
        and runs.workflow_id = counts.workflow_id
        and runs.run_id = counts.run_id
    where runs.final_status in ('completed', 'failed', 'compensated')

),

completeness_detections as (

    select
        rule_name,
        workflow_id,
        run_id as subject,
        ended_at as detected_at,
        started_at as window_start,
        ended_at as window_end,
        0.0 as observed_value,
        1.0 as threshold_value,
        'missing' as observed_unit,
        {{ alert_json_object([
            ('run_id', alert_json_string('run_id')),
            ('missing_stage', alert_json_string('required_stage')),
            ('missing_field', alert_json_string('required_field')),
        ]) }} as evidence

    from completeness_runs
    where (required_stage is not null and required_stage_events = 0)
        or (required_field is not null and required_field_values = 0)

),

-- conformance -----------------------------------------------------------------------------------

reference_path_detections as (

    select
        rules.rule_name,
        rules.workflow_id,
        runs.run_id as subject,
        runs.ended_at as detected_at,
        runs.started_at as window_start,
        runs.ended_at as window_end,
        cast(conformance.deviation_count as double) as observed_value,
        0.0 as threshold_value,
        'deviations' as observed_unit,
        {{ alert_json_object([
            ('case_id', alert_json_string('conformance.case_id')),
            ('deviation_count', alert_json_number('conformance.deviation_count')),
            ('deviations', alert_json_string('conformance.deviations')),
        ]) }} as evidence

    from conformance
    inner join rules
        on conformance.workflow_id = rules.workflow_id
        and rules.kind = 'conformance'
        and rules.use_reference_path
    inner join scoped_runs as runs
        on conformance.workflow_id = runs.workflow_id
        and conformance.case_id = runs.run_id
    where not conformance.is_conforming
        and runs.final_status in ('completed', 'failed', 'compensated')

),

transition_detections as (

    select
        rule_transitions.rule_name,
        case_events.workflow_id,
        case_events.run_id as subject,
        case_events.event_ts as detected_at,
        case_events.previous_activity_ts as window_start,
        case_events.event_ts as window_end,
        1.0 as observed_value,
        0.0 as threshold_value,
        'transition' as observed_unit,
        {{ alert_json_object([
            ('run_id', alert_json_string('case_events.run_id')),
            ('transition', alert_json_string("case_events.previous_activity || ' -> ' || case_events.activity")),
        ]) }} as evidence

    from case_events
    inner join rules
        on case_events.workflow_id = rules.workflow_id
        and rules.kind = 'conformance'
    inner join rule_transitions
        on rules.rule_name = rule_transitions.rule_name
        and case_events.previous_activity = rule_transitions.activity
        and case_events.activity = rule_transitions.next_activity
    cross join as_of
    {%- if scope.mark is not none %}
    inner join scope_runs
        on case_events.workflow_id = scope_runs.workflow_id
        and case_events.run_id = scope_runs.run_id
    {%- endif %}
    where case_events.is_activity_instance
        and case_events.event_ts <= as_of.as_of_ts
        {%- if event_floor is not none %}
        and case_events.event_ts >= {{ event_floor }}
        {%- endif %}

),

-- volume ----------------------------------------------------------------------------------------

volume_rules as (

    select * from rules
    where kind = 'volume'

),

volume_counts as (

    select
        volume_rules.rule_name,
        volume_rules.workflow_id,
        volume_rules.window_hours,
        {{ alert_window_index('events.event_ts', 'volume_rules.window_hours') }} as window_index,
        count(*) as matching_events

    from {{ ref('stg_command_center__workflow_events') }} as events
    inner join volume_rules
        on events.workflow_id = volume_rules.workflow_id
        and (volume_rules.event_type is null or events.event_type = volume_rules.event_type)
        and (volume_rules.stage is null or events.stage = volume_rules.stage)
    cross join as_of
    where events.event_ts <= as_of.as_of_ts
        {%- if scope.mark is not none %}
        -- every window a recomputed window's baseline reads (alert_detection_scope)
        and events.event_ts >= {{ scope.volume_scan_from }}
        {%- endif %}
    group by
        volume_rules.rule_name, volume_rules.workflow_id, volume_rules.window_hours,
        {{ alert_window_index('events.event_ts', 'volume_rules.window_hours') }}

),

workflow_first_windows as (

    -- the baseline needs history: the first window of the workflow's events. Read from the runs'
    -- first events (int_runs_summarized: one row per run, from all of its events; the earliest
    -- event of a workflow is the first event of one of its runs), not from every event: the same
    -- window, from a table a tenth the size (the nightly's cost follows new data, not history)
    select
        volume_rules.rule_name,
        min({{ alert_window_index('summarized.first_event_at', 'volume_rules.window_hours') }}) as first_window_index

    from {{ ref('int_runs_summarized') }} as summarized
    inner join volume_rules
        on summarized.workflow_id = volume_rules.workflow_id
    group by volume_rules.rule_name

),

volume_baselines as (

    select
        current_window.rule_name,
        current_window.workflow_id,
        current_window.window_hours,
        current_window.window_index,
        current_window.matching_events,
        volume_rules.factor,
        volume_rules.min_count,
        volume_rules.baseline_windows,
        coalesce(sum(earlier.matching_events), 0) * 1.0 / volume_rules.baseline_windows as baseline_per_window

    from volume_counts as current_window
    inner join volume_rules
        on current_window.rule_name = volume_rules.rule_name
    inner join workflow_first_windows
        on current_window.rule_name = workflow_first_windows.rule_name
    left join volume_counts as earlier
        on current_window.rule_name = earlier.rule_name
        and earlier.window_index >= current_window.window_index - volume_rules.baseline_windows
        and earlier.window_index < current_window.window_index
    where current_window.window_index - volume_rules.baseline_windows >= workflow_first_windows.first_window_index
        {%- if scope.mark is not none %}
        and current_window.window_index >= {{ alert_window_index(scope.volume_from, 'current_window.window_hours') }}
        {%- endif %}
    group by
        current_window.rule_name, current_window.workflow_id, current_window.window_hours,
        current_window.window_index, current_window.matching_events, volume_rules.factor, volume_rules.min_count,
        volume_rules.baseline_windows

),

volume_detections as (

    select
        rule_name,
        workflow_id,
        cast(null as {{ dbt.type_string() }}) as subject,
        {{ alert_window_start('window_index + 1', 'window_hours') }} as detected_at,
        {{ alert_window_start('window_index', 'window_hours') }} as window_start,
        {{ alert_window_start('window_index + 1', 'window_hours') }} as window_end,
        cast(matching_events as double) as observed_value,
        baseline_per_window * factor as threshold_value,
        'count' as observed_unit,
        {{ alert_json_object([
            ('count', alert_json_number('matching_events')),
            ('baseline_per_window', alert_json_number('baseline_per_window')),
            ('baseline_windows', alert_json_number('baseline_windows')),
            ('factor', alert_json_number('factor')),
        ]) }} as evidence

    from volume_baselines
    where matching_events > baseline_per_window * factor
        and matching_events >= min_count

),

detections as (

    select * from latency_detections
    union all
    select * from quality_detections
    union all
    select * from completeness_detections
    union all
    select * from reference_path_detections
    union all
    select * from transition_detections
    union all
    select * from volume_detections

),

final as (

    select
        {{ surrogate_key(['detections.rule_name', "coalesce(detections.subject, '')",
            alert_timestamp_text('detections.window_start'), alert_timestamp_text('detections.detected_at')]) }}
            as detection_key,
        detections.rule_name,
        rules.kind as rule_kind,
        detections.workflow_id,
        detections.subject,
        rules.severity,
        rules.exception_class,
        rules.route_to as rule_route_to,
        rules.runbook_url as rule_runbook_url,
        rules.window_hours,
        detections.detected_at,
        detections.window_start,
        detections.window_end,
        cast(detections.observed_value as double) as observed_value,
        cast(detections.threshold_value as double) as threshold_value,
        detections.observed_unit,
        detections.evidence,
        {{ alert_window_index('detections.detected_at', 'rules.window_hours') }} as detection_window_index,
        {{ mart_build_state_columns() }}

    from detections
    inner join rules
        on detections.rule_name = rules.rule_name
    cross join as_of
    cross join build_state
    -- windowed kinds: only windows ended by as_of; every kind: detected by as_of
    where detections.detected_at <= as_of.as_of_ts

)

select * from final
