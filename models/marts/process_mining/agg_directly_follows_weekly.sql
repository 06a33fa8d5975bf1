{#- One row per workflow x ISO week x directly-follows edge (from_activity -> to_activity): how
    many times an activity instance was directly followed by another in a case, and the p50 / p90
    time between them; start edges ('▶' -> the case's first activity) and end edges (the case's last
    activity -> '■') carry the start and end activities. An edge belongs to the week of its target
    event (for an end edge: the last activity's event). Definitions: _process_mining__docs.md
    (pm_directly_follows). Incremental by week (macros/incremental/mart_recompute.sql): the pre_hook
    deletes the weeks from the earliest first event of any case landed since the last build, and
    this computes the weeks the table is missing. -#}

{#- the activity instances of the weeks the table is missing, scanned twice below (the counts and
    the quantiles) rather than read once into a CTE used twice: DuckDB materializes a CTE referenced
    more than once, and at 100M events that copy of every activity instance spilled past the disk -#}
{%- set missing_from = mart_missing_periods_floor([ref('int_case_events_sequenced')], 'week_start', 'week') %}
{%- set instances_where %}
    where is_activity_instance
        -- incremental: the weeks the table is missing (the pre_hook deleted the recomputed ones)
        and {{ mart_missing_periods_filter(week_start('event_ts'), 'week_start') }}
        {%- if missing_from is not none %}
        -- the same filter as a literal (the first missing week's start, read before the pre_hook):
        -- the scan skips the kept weeks' row groups instead of reading every activity instance
        and event_ts >= {{ missing_from }}
        {%- endif %}
{%- endset %}

with

instances as (

    select
        workflow_id,
        run_id,
        activity,
        activity_seq,
        previous_activity,
        is_last_activity,
        {{ week_start('event_ts') }} as week_start

    from {{ ref('int_case_events_sequenced') }}
    {{ instances_where }}

),

transitions as (

    -- the transition edges' times: the second scan of the same instances
    select
        workflow_id,
        {{ week_start('event_ts') }} as week_start,
        previous_activity as from_activity,
        activity as to_activity,
        {{ seconds_between('previous_activity_ts', 'event_ts') }} as transition_seconds

    from {{ ref('int_case_events_sequenced') }}
    {{ instances_where }}
        and activity_seq > 1

),

build_state as (

    select * from {{ ref('int_build_state') }}

),

edge_kinds as (

    -- the three kinds of edge an activity instance can be the target (or, for an end edge, the
    -- source) of: joined to the instances so they are read once (a union of three filters over the
    -- instances made DuckDB materialize them whole: 100M instances spilled past the disk at 100M)
    select 'start' as edge_kind
    union all
    select 'transition' as edge_kind
    union all
    select 'end' as edge_kind

),

edges as (

    select
        instances.workflow_id,
        instances.run_id,
        instances.week_start,
        edge_kinds.edge_kind,
        case edge_kinds.edge_kind
            when 'start' then '▶'
            when 'transition' then instances.previous_activity
            else instances.activity
        end as from_activity,
        case when edge_kinds.edge_kind = 'end' then '■' else instances.activity end as to_activity

    from instances
    inner join edge_kinds
        on (edge_kinds.edge_kind = 'start' and instances.activity_seq = 1)
        or (edge_kinds.edge_kind = 'transition' and instances.activity_seq > 1)
        or (edge_kinds.edge_kind = 'end' and instances.is_last_activity)

),

edges_per_case as (

    -- one row per edge and case: the distinct cases are counted as rows below, not with a
    -- count(distinct run_id) whose per-group set of run ids does not spill
    select
        workflow_id,
        week_start,
        from_activity,
        to_activity,
        edge_kind,
        run_id,
        count(*) as edge_count

    from edges
    group by workflow_id, week_start, from_activity, to_activity, edge_kind, run_id

),

counted as (

    select
        workflow_id,
        week_start,
        from_activity,
        to_activity,
        edge_kind,
        sum(edge_count) as edge_count,
        count(*) as case_count

    from edges_per_case
    group by workflow_id, week_start, from_activity, to_activity, edge_kind

),

quantiles as (

    -- transition edges only: start and end edges have no transition time
    select
        workflow_id,
        week_start,
        from_activity,
        to_activity,
        {{ percentile_cont('transition_seconds', 0.5, fractions=[0.5, 0.9]) }} as p50_transition_seconds,
        {{ percentile_cont('transition_seconds', 0.9, fractions=[0.5, 0.9]) }} as p90_transition_seconds

    from transitions
    group by workflow_id, week_start, from_activity, to_activity

),

aggregated as (

    select
        counted.workflow_id,
        counted.week_start,
        counted.from_activity,
        counted.to_activity,
        counted.edge_kind,
        counted.edge_count,
        counted.case_count,
        quantiles.p50_transition_seconds,
        quantiles.p90_transition_seconds

    from counted
    left join quantiles
        on counted.workflow_id = quantiles.workflow_id
        and counted.week_start = quantiles.week_start
        and counted.from_activity = quantiles.from_activity
        and counted.to_activity = quantiles.to_activity
        and counted.edge_kind = 'transition'

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
