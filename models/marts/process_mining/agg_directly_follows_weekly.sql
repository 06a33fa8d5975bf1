{#- One row per workflow x ISO week x directly-follows edge (from_activity -> to_activity): how
    many times an activity instance was directly followed by another in a case, and the p50 / p90
    time between them; start edges ('▶' -> the case's first activity) and end edges (the case's last
    activity -> '■') carry the start and end activities. An edge belongs to the week of its target
    event (for an end edge: the last activity's event). Definitions: _process_mining__docs.md
    (pm_directly_follows). Incremental by week (macros/incremental/mart_recompute.sql): the pre_hook
    deletes the weeks from the earliest first event of any case landed since the last build, and
    this computes the weeks the table is missing. -#}

with

instances as (

    select
        workflow_id,
        run_id,
        activity,
        activity_seq,
        previous_activity,
        previous_activity_ts,
        is_last_activity,
        event_ts,
        {{ week_start('event_ts') }} as week_start

    from {{ ref('int_case_events_sequenced') }}
    where is_activity_instance
        -- incremental: the weeks the table is missing (the pre_hook deleted the recomputed ones)
        and {{ mart_missing_periods_filter(week_start('event_ts'), 'week_start') }}
        {%- set missing_from = mart_missing_periods_floor([ref('int_case_events_sequenced')], 'week_start', 'week') %}
        {%- if missing_from is not none %}
        -- the same filter as a literal (the first missing week's start, read before the pre_hook):
        -- the scan skips the kept weeks' row groups instead of reading every activity instance
        and event_ts >= {{ missing_from }}
        {%- endif %}

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

edges as (

    select
        workflow_id,
        run_id,
        week_start,
        'transition' as edge_kind,
        previous_activity as from_activity,
        activity as to_activity,
        {{ seconds_between('previous_activity_ts', 'event_ts') }} as transition_seconds

    from instances
    where activity_seq > 1

    union all

    select
        workflow_id,
        run_id,
        week_start,
        'start' as edge_kind,
        '▶' as from_activity,
        activity as to_activity,
        cast(null as double) as transition_seconds

    from instances
    where activity_seq = 1

    union all

    select
        workflow_id,
        run_id,
        week_start,
        'end' as edge_kind,
        activity as from_activity,
        '■' as to_activity,
        cast(null as double) as transition_seconds

    from instances
    where is_last_activity

),

aggregated as (

    select
        workflow_id,
        week_start,
        from_activity,
        to_activity,
        edge_kind,
        count(*) as edge_count,
        count(distinct run_id) as case_count,
        {{ percentile_cont('transition_seconds', 0.5) }} as p50_transition_seconds,
        {{ percentile_cont('transition_seconds', 0.9) }} as p90_transition_seconds

    from edges
    group by workflow_id, week_start, from_activity, to_activity, edge_kind

),

final as (

    select
        {{ surrogate_key(['workflow_id', 'week_start', 'from_activity', 'to_activity']) }} as edge_week_key,
        workflow_id,
        week_start,
        from_activity,
        to_activity,
        edge_kind,
        cast(edge_count as bigint) as edge_count,
        cast(case_count as bigint) as case_count,
        round(cast(p50_transition_seconds as double), 6) as p50_transition_seconds,
        round(cast(p90_transition_seconds as double), 6) as p90_transition_seconds,

        {{ mart_build_state_columns() }}

    from aggregated
    cross join build_state

)

select * from final
