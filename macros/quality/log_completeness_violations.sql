{#- The log-completeness checks: ONE definition of every violation, computed once per build by the
    table int_log_completeness_violations. The generic test `log_completeness`
    (macros/generic_tests/log_completeness.sql), attached to that table once per check (the tests
    Dagster shows as asset checks), reads its rows of the table; agg_log_completeness_daily counts them.
    The rules in words: doc blocks log_completeness_* in models/marts/quality/_quality__docs.md. -#}


{#- The checks, in the order they are documented. The dbt test of check `x` is `log_completeness_x`. -#}
{% macro log_completeness_check_names() -%}
    {{ return([
        'one_run_started',
        'one_terminal_event',
        'nothing_after_run_end',
        'exception_follow_up_after_raise',
        'no_future_events',
        'daily_volume',
        'no_silent_days',
        'freshness',
    ]) }}
{%- endmacro %}


{#- The checks' tunables: dbt vars with their defaults (doc block log_completeness_settings). -#}
{% macro log_completeness_settings() -%}
    {#- var freshness_as_of, else env COMMAND_CENTER_FRESHNESS_AS_OF (how Dagster runs and tests pin it), else now -#}
    {%- set freshness_as_of = var('freshness_as_of', env_var('COMMAND_CENTER_FRESHNESS_AS_OF', '')) or none -%}
    {%- if freshness_as_of is not none and not modules.re.match('^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$', freshness_as_of | string) -%}
        {{ exceptions.raise_compiler_error("var freshness_as_of must be an ISO 8601 UTC timestamp like '2026-11-23 06:00:00', got " ~ (freshness_as_of | string)) }}
    {%- endif -%}
    {{ return({
        'max_future_skew_hours': var('log_completeness_max_future_skew_hours', 24),
        'edge_grace_hours': var('log_completeness_edge_grace_hours', 48),
        'volume_min_median_events': var('log_completeness_volume_min_median_events', 100),
        'default_volume_min_share_of_median_pct': var('log_completeness_default_volume_min_share_of_median_pct', 50),
        'freshness_as_of': (freshness_as_of | string | replace('T', ' ')) if freshness_as_of is not none else none,
    }) }}
{%- endmacro %}


{#- SQL (a complete select statement) yielding one row per violation:
    check_name, workflow_id, run_id (nullable), event_id (nullable), event_day (UTC date; null only for
    a registered workflow without any event), detail.
    events_relation: the events (columns of stg_command_center__workflow_events);
    slo_targets_relation: the register's thresholds (stg_governance__slo_targets);
    checks: the check names to include (default: all). -#}
{% macro log_completeness_violations(events_relation, slo_targets_relation=none, checks=none) -%}

{%- set all_checks = log_completeness_check_names() -%}
{%- set checks = all_checks if checks is none else checks -%}
{%- for check in checks -%}
    {%- if check not in all_checks -%}
        {{ exceptions.raise_compiler_error("log_completeness_violations: unknown check '" ~ check ~ "'; known: " ~ all_checks | join(', ')) }}
    {%- endif -%}
{%- endfor -%}
{#- Only the checks asked for are rendered, and the register is read only by the checks that need it. -#}
{%- set needs_register = 'daily_volume' in checks or 'freshness' in checks -%}
{%- set needs_daily_counts = 'daily_volume' in checks or 'no_silent_days' in checks -%}
{%- if needs_register and slo_targets_relation is none -%}
    {%- set slo_targets_relation = ref('stg_governance__slo_targets') -%}
{%- endif -%}
{%- set s = log_completeness_settings() -%}
{%- set skew_seconds = (s.max_future_skew_hours * 3600) | float -%}
{%- set grace_seconds = (s.edge_grace_hours * 3600) | float -%}
{%- set terminal_types = "('run_completed', 'run_failed', 'run_compensated')" -%}

with

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

),

{% if needs_register -%}
slo_targets as (

    select
        workflow_id,
        freshness_threshold_hours,
        volume_min_share_of_median_pct

    from {{ slo_targets_relation }}

),
{%- endif %}

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
        min(case when not is_future then event_ts end) as first_current_event_at,
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

workflow_edges as (

    -- the left edge of each workflow's log in the warehouse: its earliest (not future-dated) event
    select
        workflow_id,
        min(first_current_event_at) as first_event_at

    from runs
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

-- ---------------------------------------------------------------------------------------------
-- one CTE per check, all with the same columns
-- ---------------------------------------------------------------------------------------------

one_run_started as (

    select
        'one_run_started' as check_name,
        workflow_id,
        run_id,
        second_run_started_event_id as event_id,
        {{ day_start('coalesce(first_run_started_at, first_event_at)') }} as event_day,
        case
            when run_started_count = 0 then 'no run_started event'
            else cast(run_started_count as varchar) || ' run_started events'
        end as detail

    from telemetry_runs
    where run_started_count <> 1
        and not is_edge_run

),

one_terminal_event as (

    select
        'one_terminal_event' as check_name,
        workflow_id,
        run_id,
        second_terminal_event_id as event_id,
        {{ day_start('ended_at') }} as event_day,
        cast(terminal_count as varchar) || ' terminal events (run_completed ' || cast(completed_count as varchar)
            || ', run_failed ' || cast(failed_count as varchar)
            || ', run_compensated ' || cast(compensated_count as varchar) || ')'
            || case
                when terminal_count = 2 and failed_count = 1 and compensated_count = 1
                    then ': run_compensated before run_failed'
                else ''
            end as detail

    from telemetry_runs
    where terminal_count >= 2
        and not is_saga_pair

),

nothing_after_run_end as (

    select
        'nothing_after_run_end' as check_name,
        flagged_events.workflow_id,
        flagged_events.run_id,
        flagged_events.event_id,
        flagged_events.event_day,
        flagged_events.event_type || ' after the run ended (' || telemetry_runs.ending_event_type || ')' as detail

    from flagged_events
    inner join telemetry_runs
        on flagged_events.workflow_id = telemetry_runs.workflow_id
        and flagged_events.run_id = telemetry_runs.run_id
    where telemetry_runs.ended_at is not null
        -- only the runs with something after the end (the per-run maxima), so the join is small
        and (
            telemetry_runs.last_checked_event_at > telemetry_runs.ended_at
            or (
                telemetry_runs.last_compensation_at > telemetry_runs.ended_at
                and telemetry_runs.ending_event_type <> 'run_failed'
            )
        )
        -- equal timestamps are not "after"
        and flagged_events.event_ts > telemetry_runs.ended_at
        and flagged_events.event_type not in ('exception_acknowledged', 'exception_resolved')
        and not (flagged_events.event_type = 'run_compensated' and telemetry_runs.ending_event_type = 'run_failed')

),

exception_raises as (

    select
        exception_id,
        min(event_ts) as raised_at

    from flagged_events
    where event_type = 'exception_raised'
        and exception_id is not null
    group by exception_id

),

exception_follow_up_after_raise as (

    select
        'exception_follow_up_after_raise' as check_name,
        follow_ups.workflow_id,
        follow_ups.run_id,
        follow_ups.event_id,
        follow_ups.event_day,
        case
            when follow_ups.exception_id is null
                then follow_ups.event_type || ' without an exception_id'
            when exception_raises.raised_at is null
                then follow_ups.event_type || ' of ' || follow_ups.exception_id || ' without its exception_raised'
            else follow_ups.event_type || ' of ' || follow_ups.exception_id || ' before its exception_raised'
        end as detail

    from flagged_events as follow_ups
    left join exception_raises
        on follow_ups.exception_id = exception_raises.exception_id
    left join telemetry_runs
        on follow_ups.workflow_id = telemetry_runs.workflow_id
        and follow_ups.run_id = telemetry_runs.run_id
    where follow_ups.event_type in ('exception_acknowledged', 'exception_resolved')
        and (
            -- the raise never arrived (unless the run itself began before the window: see edge runs)
            (exception_raises.raised_at is null and not coalesce(telemetry_runs.is_edge_run, false))
            or follow_ups.event_ts < exception_raises.raised_at
        )

),

no_future_events as (

    select
        'no_future_events' as check_name,
        workflow_id,
        run_id,
        event_id,
        -- attributed to the day it landed (its own day may be years ahead)
        {{ day_start('loaded_at') }} as event_day,
        case
            when is_after_landing_skew
                then 'event_ts more than {{ s.max_future_skew_hours }} h after loaded_at'
            else 'event_ts more than {{ s.max_future_skew_hours }} h after the current time'
        end as detail

    from flagged_events
    where is_future

),

{% if needs_daily_counts -%}
-- ---------------------------------------------------------------------------------------------
-- volume: daily event counts of active workflows on a date spine (future-dated events excluded)
-- ---------------------------------------------------------------------------------------------

latest as (

    select {{ day_start('max(event_ts)') }} as latest_day
    from flagged_events
    where not is_future

),

workflow_day_counts as (

    select
        workflow_id,
        event_day as day,
        count(*) as events

    from flagged_events
    where not is_future
    group by workflow_id, event_day

),

active_workflows as (

    -- active: at least one event in the 7 days before the latest day or on it; the spine runs over
    -- complete days only, from the workflow's first event day to the day before the latest day
    select
        workflow_day_counts.workflow_id,
        min(workflow_day_counts.day) as first_day,
        max(workflow_day_counts.day) as last_event_day,
        {{ add_days('max(latest.latest_day)', -1) }} as last_complete_day

    from workflow_day_counts
    cross join latest
    group by workflow_day_counts.workflow_id
    having max(workflow_day_counts.day) >= {{ add_days('max(latest.latest_day)', -7) }}
        and min(workflow_day_counts.day) < max(latest.latest_day)

),

workflow_day_spine as (

    {{ period_spine('active_workflows', 'first_day', 'last_complete_day', 'day', 'day') }}

),

daily_counts as (

    select
        workflow_day_spine.workflow_id,
        workflow_day_spine.first_day,
        workflow_day_spine.day,
        coalesce(workflow_day_counts.events, 0) as events

    from workflow_day_spine
    left join workflow_day_counts
        on workflow_day_spine.workflow_id = workflow_day_counts.workflow_id
        and workflow_day_spine.day = workflow_day_counts.day

),

{% if 'daily_volume' in checks -%}
trailing_windows as (

    -- per day: the 7 days before it (empty days count 0) and the same weekday in each of the 4
    -- weeks before it (those that are on the spine). A self-join, because a window-framed median
    -- is not portable (Snowflake's percentile_cont takes no window frame).
    select
        daily_counts.workflow_id,
        daily_counts.day,
        sum(case when prior_days.day >= {{ add_days('daily_counts.day', -7) }} then 1 else 0 end) as trailing_days,
        {{ percentile_cont('case when prior_days.day >= ' ~ add_days('daily_counts.day', -7) ~ ' then prior_days.events end', 0.5) }}
            as trailing_median_events,
        {{ percentile_cont('case when prior_days.day in (' ~ add_days('daily_counts.day', -7) ~ ', ' ~ add_days('daily_counts.day', -14) ~ ', ' ~ add_days('daily_counts.day', -21) ~ ', ' ~ add_days('daily_counts.day', -28) ~ ') then prior_days.events end', 0.5) }}
            as same_weekday_median_events

    from daily_counts
    inner join daily_counts as prior_days
        on daily_counts.workflow_id = prior_days.workflow_id
        and prior_days.day >= {{ add_days('daily_counts.day', -28) }}
        and prior_days.day < daily_counts.day
    group by daily_counts.workflow_id, daily_counts.day

),

volume_days as (

    select
        daily_counts.workflow_id,
        daily_counts.day,
        daily_counts.events,
        trailing_windows.trailing_median_events,
        trailing_windows.same_weekday_median_events,
        coalesce(
            slo_targets.volume_min_share_of_median_pct,
            {{ s.default_volume_min_share_of_median_pct }}
        ) as min_share_pct

    from daily_counts
    inner join trailing_windows
        on daily_counts.workflow_id = trailing_windows.workflow_id
        and daily_counts.day = trailing_windows.day
    left join slo_targets
        on daily_counts.workflow_id = slo_targets.workflow_id
    -- a full trailing window: skip the first 7 days of a workflow
    where trailing_windows.trailing_days = 7
        and daily_counts.day >= {{ add_days('daily_counts.first_day', 7) }}
        -- too few events for a share of the median to mean anything (doc block)
        and trailing_windows.trailing_median_events >= {{ s.volume_min_median_events }}

),

daily_volume as (

    select
        'daily_volume' as check_name,
        workflow_id,
        cast(null as varchar) as run_id,
        cast(null as varchar) as event_id,
        day as event_day,
        cast(events as varchar) || ' events, below ' || cast(min_share_pct as varchar)
            || '% of the trailing 7-day median (' || cast(trailing_median_events as varchar)
            || ') and of the same weekday''s median over the 4 weeks before (' || cast(same_weekday_median_events as varchar)
            || ')' as detail

    from volume_days
    where events < min_share_pct / 100.0 * trailing_median_events
        and events < min_share_pct / 100.0 * same_weekday_median_events

),
{%- endif %}

{% if 'no_silent_days' in checks -%}
workflow_typical_volume as (

    select
        workflow_id,
        {{ percentile_cont('events', 0.5) }} as median_daily_events

    from daily_counts
    group by workflow_id

),

no_silent_days as (

    select
        'no_silent_days' as check_name,
        daily_counts.workflow_id,
        cast(null as varchar) as run_id,
        cast(null as varchar) as event_id,
        daily_counts.day as event_day,
        'no events (the workflow''s median day has ' || cast(workflow_typical_volume.median_daily_events as varchar)
            || ')' as detail

    from daily_counts
    inner join workflow_typical_volume
        on daily_counts.workflow_id = workflow_typical_volume.workflow_id
    where daily_counts.events = 0
        and workflow_typical_volume.median_daily_events >= {{ s.volume_min_median_events }}

),
{%- endif %}
{%- endif %}

{% if 'freshness' in checks -%}
-- ---------------------------------------------------------------------------------------------
-- freshness: the newest (not future-dated) event of every registered workflow
-- ---------------------------------------------------------------------------------------------

newest_events as (

    select
        workflow_id,
        max(event_ts) as newest_event_at

    from flagged_events
    where not is_future
    group by workflow_id

),

freshness as (

    select
        'freshness' as check_name,
        slo_targets.workflow_id,
        cast(null as varchar) as run_id,
        cast(null as varchar) as event_id,
        {{ day_start('newest_events.newest_event_at') }} as event_day,
        case
            when newest_events.newest_event_at is null then 'no events of this registered workflow'
            else 'newest event ' || cast(newest_events.newest_event_at as varchar) || ' is older than '
                || cast(slo_targets.freshness_threshold_hours as varchar) || ' h at '
                || cast(clock.freshness_as_of_ts as varchar)
        end as detail

    from slo_targets
    cross join clock
    left join newest_events
        on slo_targets.workflow_id = newest_events.workflow_id
    where newest_events.newest_event_at is null
        or {{ seconds_between('newest_events.newest_event_at', 'clock.freshness_as_of_ts') }}
            > slo_targets.freshness_threshold_hours * 3600.0

),

{%- endif %}

violations as (

    {% for check in checks -%}
    select
        cast(check_name as varchar) as check_name,
        cast(workflow_id as varchar) as workflow_id,
        cast(run_id as varchar) as run_id,
        cast(event_id as varchar) as event_id,
        cast(event_day as date) as event_day,
        cast(detail as varchar) as detail
    from {{ check }}
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}

)

select * from violations

{%- endmacro %}
