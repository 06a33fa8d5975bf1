-- The floor: the benchmark's core outputs computed by hand in one DuckDB process, straight from the
-- generator's Parquet (read_parquet; no landing, no views, no tests). The rules are the marts' own
-- (models/marts/runs/_runs__docs.md, _exceptions__docs.md, _governance__docs.md) for telemetry
-- events. '{events}' is replaced by the Parquet path. Outputs: temp tables floor_runs,
-- floor_weekly, floor_exception_ttr, floor_monthly.
set TimeZone = 'UTC';

-- per-run facts: earliest run_started (else earliest event) starts a run and gives its region;
-- the earliest terminal event ends it; a failure with a compensation ends as compensated
create temp table floor_runs as
with events as (
    select
        workflow_id,
        run_id,
        event_id,
        event_type,
        region,
        exception_id,
        timezone('UTC', cast(replace(trim(event_ts), 'z', 'Z') as timestamptz)) as ts,
        event_type in ('run_completed', 'run_failed', 'run_compensated') as is_terminal
    from read_parquet('{events}')
),
runs as (
    select
        workflow_id,
        run_id,
        arg_min(region, (event_type <> 'run_started', ts, event_id)) as region,
        coalesce(min(ts) filter (where event_type = 'run_started'), min(ts)) as started_at,
        min(ts) filter (where is_terminal) as ended_at,
        arg_min(event_type, (ts, event_id)) filter (where is_terminal) as terminal_type,
        bool_or(event_type = 'run_compensated') as has_compensation,
        count(distinct exception_id) filter (where event_type = 'exception_raised') as exception_count
    from events
    group by workflow_id, run_id
)
select
    workflow_id,
    run_id,
    region,
    started_at,
    ended_at,
    case
        when terminal_type = 'run_completed' then 'completed'
        when terminal_type = 'run_failed' and has_compensation then 'compensated'
        when terminal_type = 'run_failed' then 'failed'
        when terminal_type = 'run_compensated' then 'compensated'
        else 'in_flight'
    end as final_status,
    date_diff('microsecond', started_at, ended_at) / 1000000.0 as cycle_time_seconds,
    exception_count
from runs;

-- weekly throughput per workflow x region x ISO week: runs started (week started), runs completed
-- and p50/p90 cycle time of completed runs (week ended)
create temp table floor_weekly as
with started as (
    select workflow_id, region, cast(date_trunc('week', started_at) as date) as week_start, count(*) as runs_started
    from floor_runs
    group by all
),
completed as (
    select
        workflow_id,
        region,
        cast(date_trunc('week', ended_at) as date) as week_start,
        count(*) as runs_completed,
        quantile_cont(cycle_time_seconds, 0.5) as cycle_time_p50_seconds,
        quantile_cont(cycle_time_seconds, 0.9) as cycle_time_p90_seconds
    from floor_runs
    where final_status = 'completed'
    group by all
)
select
    workflow_id,
    region,
    week_start,
    coalesce(started.runs_started, 0) as runs_started,
    coalesce(completed.runs_completed, 0) as runs_completed,
    completed.cycle_time_p50_seconds,
    completed.cycle_time_p90_seconds
from started
full outer join completed using (workflow_id, region, week_start);

-- exception time to resolution p50/p90 per workflow x exception class x ISO week resolved
create temp table floor_exception_ttr as
with events as (
    select
        exception_id,
        workflow_id,
        event_id,
        event_type,
        exception_class,
        timezone('UTC', cast(replace(trim(event_ts), 'z', 'Z') as timestamptz)) as ts
    from read_parquet('{events}')
    where exception_id is not null
        and event_type in ('exception_raised', 'exception_acknowledged', 'exception_resolved')
),
exceptions as (
    select
        exception_id,
        arg_min(workflow_id, (event_type <> 'exception_raised', ts, event_id)) as workflow_id,
        coalesce(
            arg_min(exception_class, (event_type <> 'exception_raised', ts, event_id)), min(exception_class)
        ) as exception_class,
        coalesce(min(ts) filter (where event_type = 'exception_raised'), min(ts)) as raised_at,
        min(ts) filter (where event_type = 'exception_resolved') as resolved_at
    from events
    group by exception_id
)
select
    workflow_id,
    coalesce(exception_class, 'UNKNOWN') as exception_class,
    cast(date_trunc('week', resolved_at) as date) as week_start,
    count(*) as exceptions_resolved,
    quantile_cont(date_diff('microsecond', raised_at, resolved_at) / 1000000.0, 0.5) as time_to_resolution_p50_seconds,
    quantile_cont(date_diff('microsecond', raised_at, resolved_at) / 1000000.0, 0.9) as time_to_resolution_p90_seconds
from exceptions
where resolved_at is not null
group by all;

-- monthly exception rate per workflow: share of the runs started in the month that raised one
create temp table floor_monthly as
select
    workflow_id,
    cast(date_trunc('month', started_at) as date) as month_start,
    count(*) as runs_started,
    count(*) filter (where exception_count > 0) as runs_with_exceptions,
    round(100.0 * count(*) filter (where exception_count > 0) / count(*), 6) as exception_rate_pct
from floor_runs
group by all;
