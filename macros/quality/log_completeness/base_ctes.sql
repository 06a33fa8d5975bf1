{#- The CTEs every log-completeness check reads (macros/quality/log_completeness/): the events with
    their day and future flags (flagged_events: every event, or in the nightly build the events of the
    touched runs, macro log_completeness_nightly_scope), one row per workflow x day of the current
    (not future-dated) events of the whole log (workflow_day_events: the workflow-level checks and the
    edges), one row per run with its lifecycle counts (runs), and the telemetry runs with their edge and
    saga flags (telemetry_runs). Each CTE ends with a comma. -#}
{% macro log_completeness_base_ctes(events_relation, slo_targets_relation, s, scope=none) -%}
{%- set skew_seconds = (s.max_future_skew_hours * 3600) | float -%}
{%- set grace_seconds = (s.edge_grace_hours * 3600) | float -%}
{%- set terminal_types = "('run_completed', 'run_failed', 'run_compensated')" -%}
{%- if scope is not none %}
touched_runs as (

    {{ log_completeness_touched_runs_sql(events_relation, scope) | indent(4) }}

),
{%- endif %}

source_events as (

    select
        workflow_id,
        run_id,
        event_id,
        event_type,
        event_ts,
        log_format,
        exception_id,
        loaded_at

    from {{ events_relation }}
    {%- if scope is not none %}
    where (workflow_id, run_id) in (select touched_runs.workflow_id, touched_runs.run_id from touched_runs)
    {%- endif %}

),

slo_targets as (

    select
        workflow_id,
        freshness_threshold_hours,
        volume_min_share_of_median_pct

    from {{ slo_targets_relation }}

),

clock as (

    -- the real current time bounds future timestamps; freshness is measured at freshness_as_of
    -- (dbt var) when it is set, so a pinned run is reproducible
    select
        {{ current_timestamp_utc() }} as current_ts,
        {% if s.freshness_as_of is not none -%}
        cast('{{ s.freshness_as_of }}' as timestamp) as freshness_as_of_ts
        {%- else -%}
        {{ current_timestamp_utc() }} as freshness_as_of_ts
        {%- endif %}

),

events as (

    select
        source_events.*,
        {{ day_start('source_events.event_ts') }} as event_day,
        -- future-dated: more than the contract's skew after landing, or after the current time
        coalesce(
            source_events.event_ts > {{ timestamp_add_seconds('source_events.loaded_at', skew_seconds) }},
            false
        ) as is_after_landing_skew,
        source_events.event_ts > {{ timestamp_add_seconds('clock.current_ts', skew_seconds) }} as is_after_current_skew,
        -- minimal logs carry no run lifecycle: only telemetry events start or end a run
        (source_events.log_format = 'telemetry' and source_events.event_type = 'run_started') as is_run_start,
        (source_events.log_format = 'telemetry' and source_events.event_type in {{ terminal_types }}) as is_terminal

    from source_events
    cross join clock

),

flagged_events as (

    select
        events.*,
        (is_after_landing_skew or is_after_current_skew) as is_future

    from events

),

-- ---------------------------------------------------------------------------------------------
-- runs: the lifecycle of every run
-- ---------------------------------------------------------------------------------------------

runs as (

    -- one hash aggregate over the events (no per-run windows: at 10M events they dominated the build)
    select
        workflow_id,
        run_id,
        max(case when log_format = 'telemetry' then 1 else 0 end) = 1 as is_telemetry,
        min(event_ts) as first_event_at,
        min(case when is_run_start then event_ts end) as first_run_started_at,
        sum(case when is_run_start then 1 else 0 end) as run_started_count,

        sum(case when is_terminal then 1 else 0 end) as terminal_count,
        sum(case when is_terminal and event_type = 'run_completed' then 1 else 0 end) as completed_count,
        sum(case when is_terminal and event_type = 'run_failed' then 1 else 0 end) as failed_count,
        sum(case when is_terminal and event_type = 'run_compensated' then 1 else 0 end) as compensated_count,
        min(case when is_terminal and event_type = 'run_failed' then event_ts end) as failed_at,
        min(case when is_terminal and event_type = 'run_compensated' then event_ts end) as compensated_at,

        -- the ending event is the earliest terminal event (ties: the lowest event_id), as in int_runs_summarized
        min(case when is_terminal then event_ts end) as ended_at,
        {{ first_value_by('case when is_terminal then event_type end', 'event_ts', 'event_id') }} as ending_event_type,

        -- the latest event that may not follow the end (acks and resolutions may), and the latest
        -- run_compensated (it may follow a run_failed end): nothing_after_run_end reads only the
        -- runs where one of them is after the end
        max(
            case
                when event_type not in ('exception_acknowledged', 'exception_resolved', 'run_compensated') then event_ts
            end
        ) as last_checked_event_at,
        max(case when event_type = 'run_compensated' then event_ts end) as last_compensation_at

    from flagged_events
    group by workflow_id, run_id

),

repeated_lifecycle_events as (

    -- the second run_started and the second terminal event (by event_ts, then event_id) of the few
    -- runs that have two or more: the event a one_run_started / one_terminal_event violation names
    select
        workflow_id,
        run_id,
        max(case when is_run_start and lifecycle_rank = 2 then event_id end) as second_run_started_event_id,
        max(case when is_terminal and lifecycle_rank = 2 then event_id end) as second_terminal_event_id

    from (
        select
            flagged_events.workflow_id,
            flagged_events.run_id,
            flagged_events.event_id,
            flagged_events.is_run_start,
            flagged_events.is_terminal,
            row_number() over (
                partition by flagged_events.workflow_id, flagged_events.run_id, flagged_events.is_run_start
                order by flagged_events.event_ts, flagged_events.event_id
            ) as lifecycle_rank

        from flagged_events
        inner join runs
            on flagged_events.workflow_id = runs.workflow_id
            and flagged_events.run_id = runs.run_id
        where (runs.run_started_count >= 2 and flagged_events.is_run_start)
            or (runs.terminal_count >= 2 and flagged_events.is_terminal)
    ) as lifecycle_events
    group by workflow_id, run_id

),

workflow_day_events as (

    -- one row per workflow x day of the current (not future-dated) events of the whole log, read
    -- from the events directly (narrow columns): the workflows' edges, the daily counts and the
    -- newest events of the workflow-level checks, also when flagged_events holds the touched runs only
    select
        all_events.workflow_id,
        {{ day_start('all_events.event_ts') }} as day,
        count(*) as events,
        min(all_events.event_ts) as first_event_at,
        max(all_events.event_ts) as last_event_at

    from {{ events_relation }} as all_events
    -- not is_future (flagged_events), spelt the same way; the clock inline (clock.current_ts), as a
    -- cross join it made DuckDB filter 10M rows in a nested-loop join
    where not (
        coalesce(
            all_events.event_ts > {{ timestamp_add_seconds('all_events.loaded_at', skew_seconds) }},
            false
        )
        or all_events.event_ts > {{ timestamp_add_seconds(current_timestamp_utc(), skew_seconds) }}
    )
    group by all_events.workflow_id, {{ day_start('all_events.event_ts') }}

),

workflow_edges as (

    -- the left edge of each workflow's log in the warehouse: its earliest (not future-dated) event
    select
        workflow_id,
        min(first_event_at) as first_event_at

    from workflow_day_events
    group by workflow_id

),

telemetry_runs as (

    select
        runs.*,
        repeated_lifecycle_events.second_run_started_event_id,
        repeated_lifecycle_events.second_terminal_event_id,
        -- an edge run: its run_started is not in the window, because the run began before the
        -- workflow's first event in the warehouse (retention purge, or a feed's first export)
        (
            runs.run_started_count = 0
            and runs.first_event_at < {{ timestamp_add_seconds('workflow_edges.first_event_at', grace_seconds) }}
        ) as is_edge_run,
        -- the saga pair: run_failed, then (not before) run_compensated - the only legitimate two terminals
        (
            runs.terminal_count = 2
            and runs.failed_count = 1
            and runs.compensated_count = 1
            and runs.failed_at <= runs.compensated_at
        ) as is_saga_pair

    from runs
    left join workflow_edges
        on runs.workflow_id = workflow_edges.workflow_id
    left join repeated_lifecycle_events
        on runs.workflow_id = repeated_lifecycle_events.workflow_id
        and runs.run_id = repeated_lifecycle_events.run_id
    where runs.is_telemetry

),
{%- endmacro %}
