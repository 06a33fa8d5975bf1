{#- One row per workflow x UTC day, from the workflow's first to its last event day: events, runs
    started and ended, runs whose lifecycle is complete, and the log-completeness violations
    attributed to the day. Definitions: doc blocks in _quality__docs.md.
    Incremental (doc block log_completeness_daily_recompute): the days before events_floor keep their
    event counts from the table (macros/quality/log_completeness_daily_scope.sql), the later days count
    the events; runs, violations and the spine are recomputed every build (small inputs), and only the
    rows that are new, changed or on or after the floor are written (delete+insert on workflow x day). -#}

{%- set checks = log_completeness_check_names() -%}
{%- set lifecycle_checks = ['one_run_started', 'one_terminal_event', 'nothing_after_run_end'] %}
{%- set events_floor = log_completeness_daily_events_floor(ref('stg_command_center__workflow_events')) %}
{%- set value_columns = ['events', 'runs_started', 'runs_ended', 'runs_with_complete_lifecycle', 'share_complete',
                         'checks_failed', 'violations', 'failed_checks'] %}
{%- for check in checks %}{% do value_columns.append(check ~ '_violations') %}{% endfor %}

with

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}

),

runs as (

    select * from {{ ref('int_runs_summarized') }}

),

violations as (

    select * from {{ ref('int_log_completeness_violations') }}

),

future_events as (

    -- future-dated events are counted as no_future_events violations on the day they landed,
    -- not on their own (possibly far-future) day
    select distinct event_id
    from violations
    where check_name = 'no_future_events'

),

event_days as (

    {%- if events_floor is not none %}
    -- incremental: the days before the floor have the same events as when the table counted them
    select
        workflow_id,
        day,
        events

    from {{ this }}
    where day < {{ events_floor }}
        and events > 0

    union all
    {%- endif %}

    select
        events.workflow_id,
        {{ day_start('events.event_ts') }} as day,
        count(*) as events

    from events
    left join future_events
        on events.event_id = future_events.event_id
    where future_events.event_id is null
        {%- if events_floor is not none %}
        -- a literal: the scan reads only the row groups from the floor on (zone maps)
        and events.event_ts >= cast({{ events_floor }} as timestamp)
        {%- endif %}
    group by events.workflow_id, {{ day_start('events.event_ts') }}

),

workflow_bounds as (

    select
        workflow_id,
        min(day) as first_day,
        max(day) as last_day

    from event_days
    group by workflow_id

),

spine as (

    {{ period_spine('workflow_bounds', 'first_day', 'last_day', 'day', 'day') }}

),

incomplete_runs as (

    select distinct
        workflow_id,
        run_id

    from violations
    where check_name in ('{{ lifecycle_checks | join("', '") }}')
        and run_id is not null

),

telemetry_runs as (

    select
        runs.workflow_id,
        runs.run_id,
        {{ day_start('runs.started_at') }} as started_day,
        {{ day_start('runs.ended_at') }} as ended_day,
        incomplete_runs.run_id is null as has_complete_lifecycle

    from runs
    left join incomplete_runs
        on runs.workflow_id = incomplete_runs.workflow_id
        and runs.run_id = incomplete_runs.run_id
    -- minimal-log runs have no lifecycle events to check
    where runs.log_format = 'telemetry'

),

runs_started as (

    select
        workflow_id,
        started_day as day,
        count(*) as runs_started

    from telemetry_runs
    group by workflow_id, started_day

),

runs_ended as (

    select
        workflow_id,
        ended_day as day,
        count(*) as runs_ended,
        sum(case when has_complete_lifecycle then 1 else 0 end) as runs_with_complete_lifecycle

    from telemetry_runs
    where ended_day is not null
    group by workflow_id, ended_day

),

violation_days as (

    select
        workflow_id,
        event_day as day,
        count(*) as violations,
        count(distinct check_name) as checks_failed,
        {{ string_agg_distinct('check_name') }} as failed_checks,
        {%- for check in checks %}
        sum(case when check_name = '{{ check }}' then 1 else 0 end) as {{ check }}_violations{{ ',' if not loop.last }}
        {%- endfor %}

    from violations
    where event_day is not null
    group by workflow_id, event_day

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

computed as (

    select
        spine.workflow_id,
        spine.day,

        cast(coalesce(event_days.events, 0) as bigint) as events,
        cast(coalesce(runs_started.runs_started, 0) as bigint) as runs_started,
        cast(coalesce(runs_ended.runs_ended, 0) as bigint) as runs_ended,
        cast(coalesce(runs_ended.runs_with_complete_lifecycle, 0) as bigint) as runs_with_complete_lifecycle,
        case
            when coalesce(runs_ended.runs_ended, 0) > 0
                then round(cast(runs_ended.runs_with_complete_lifecycle as double) / runs_ended.runs_ended, 6)
        end as share_complete,

        cast(coalesce(violation_days.checks_failed, 0) as bigint) as checks_failed,
        cast(coalesce(violation_days.violations, 0) as bigint) as violations,
        violation_days.failed_checks,
        {%- for check in checks %}
        cast(coalesce(violation_days.{{ check }}_violations, 0) as bigint) as {{ check }}_violations{{ ',' if not loop.last }}
        {%- endfor %}

    from spine
    left join event_days
        on spine.workflow_id = event_days.workflow_id
        and spine.day = event_days.day
    left join runs_started
        on spine.workflow_id = runs_started.workflow_id
        and spine.day = runs_started.day
    left join runs_ended
        on spine.workflow_id = runs_ended.workflow_id
        and spine.day = runs_ended.day
    left join violation_days
        on spine.workflow_id = violation_days.workflow_id
        and spine.day = violation_days.day

),

final as (

    select
        computed.*,

        {{ mart_build_state_columns() }}

    from computed
    cross join build_state
    {%- if is_incremental() %}
    -- incremental (delete+insert on workflow_id, day): write only the rows that are new, differ from
    -- the kept row, or were recounted from the events (their build state moves on)
    left join {{ this }} as kept
        on computed.workflow_id = kept.workflow_id
        and computed.day = kept.day
    where kept.workflow_id is null
        {%- if events_floor is not none %}
        or computed.day >= {{ events_floor }}
        {%- endif %}
        {%- for column in value_columns %}
        or computed.{{ column }} is distinct from kept.{{ column }}
        {%- endfor %}
    {%- endif %}

)

select * from final
