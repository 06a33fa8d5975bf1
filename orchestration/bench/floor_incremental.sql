-- The incremental floor: the floor's four outputs (floor.sql) brought up to date after one more day
-- lands, by hand, in one DuckDB process that already holds the history: the events table and the
-- outputs of floor.sql over it (set up before the clock starts, orchestration/bench/floor_incremental.py).
-- Timed: append the day's events, recompute the runs and exceptions the day touches from all their
-- events (a late event of any age included), then the weeks and months those runs and exceptions fall
-- in (before and after). The same rules as floor.sql. '{day}' is replaced by the day's Parquet path.
set TimeZone = 'UTC';

create temp table day_events as
select
    workflow_id, run_id, event_id, event_type, region, exception_id, exception_class,
    timezone('UTC', cast(replace(trim(event_ts), 'z', 'Z') as timestamptz)) as ts
from read_parquet('{day}');

insert into events select * from day_events;

-- the runs the day touches, recomputed from all their events
create temp table touched_runs as select distinct workflow_id, run_id from day_events;

create temp table old_runs as
select floor_runs.* from floor_runs semi join touched_runs using (workflow_id, run_id);

delete from floor_runs where (workflow_id, run_id) in (select (workflow_id, run_id) from touched_runs);

insert into floor_runs
with runs as (
    select
        workflow_id,
        run_id,
        arg_min(region, (event_type <> 'run_started', ts, event_id)) as region,
        coalesce(min(ts) filter (where event_type = 'run_started'), min(ts)) as started_at,
        min(ts) filter (where event_type in ('run_completed', 'run_failed', 'run_compensated')) as ended_at,
        arg_min(event_type, (ts, event_id))
            filter (where event_type in ('run_completed', 'run_failed', 'run_compensated')) as terminal_type,
        bool_or(event_type = 'run_compensated') as has_compensation,
        count(distinct exception_id) filter (where event_type = 'exception_raised') as exception_count
    from events semi join touched_runs using (workflow_id, run_id)
    group by workflow_id, run_id
)
select
    workflow_id, run_id, region, started_at, ended_at,
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

create temp table changed_runs as
select * from old_runs
union all
select floor_runs.* from floor_runs semi join touched_runs using (workflow_id, run_id);

-- weekly: the workflow x region x weeks the changed runs started or ended in
create temp table touched_weeks as
select distinct workflow_id, region, cast(date_trunc('week', started_at) as date) as week_start from changed_runs
union
select distinct workflow_id, region, cast(date_trunc('week', ended_at) as date) from changed_runs where ended_at is not null;

delete from floor_weekly
where (workflow_id, region, week_start) in (select (workflow_id, region, week_start) from touched_weeks);

insert into floor_weekly
with week_runs as (
    select floor_runs.* from floor_runs
    where (workflow_id, region) in (select (workflow_id, region) from touched_weeks)
),
started as (
    select workflow_id, region, cast(date_trunc('week', started_at) as date) as week_start, count(*) as runs_started
    from week_runs group by all
),
completed as (
    select
        workflow_id, region, cast(date_trunc('week', ended_at) as date) as week_start,
        count(*) as runs_completed,
        quantile_cont(cycle_time_seconds, 0.5) as cycle_time_p50_seconds,
        quantile_cont(cycle_time_seconds, 0.9) as cycle_time_p90_seconds
    from week_runs where final_status = 'completed' group by all
)
select
    workflow_id, region, week_start,
    coalesce(started.runs_started, 0), coalesce(completed.runs_completed, 0),
    completed.cycle_time_p50_seconds, completed.cycle_time_p90_seconds
from started
full outer join completed using (workflow_id, region, week_start)
semi join touched_weeks using (workflow_id, region, week_start);

-- monthly: the workflow x months the changed runs started in
create temp table touched_months as
select distinct workflow_id, cast(date_trunc('month', started_at) as date) as month_start from changed_runs;

delete from floor_monthly
where (workflow_id, month_start) in (select (workflow_id, month_start) from touched_months);

insert into floor_monthly
select
    workflow_id,
    cast(date_trunc('month', started_at) as date) as month_start,
    count(*), count(*) filter (where exception_count > 0),
    round(100.0 * count(*) filter (where exception_count > 0) / count(*), 6)
from floor_runs
where (workflow_id, cast(date_trunc('month', started_at) as date)) in (select (workflow_id, month_start) from touched_months)
group by all;

-- exceptions the day touches, recomputed from all their events; then their resolution weeks
create temp table touched_exceptions as
select distinct exception_id from day_events
where exception_id is not null and event_type in ('exception_raised', 'exception_acknowledged', 'exception_resolved');

create temp table old_exceptions as
select floor_exceptions.* from floor_exceptions semi join touched_exceptions using (exception_id);

delete from floor_exceptions where exception_id in (select exception_id from touched_exceptions);

insert into floor_exceptions
select
    exception_id,
    arg_min(workflow_id, (event_type <> 'exception_raised', ts, event_id)),
    coalesce(arg_min(exception_class, (event_type <> 'exception_raised', ts, event_id)), min(exception_class)),
    coalesce(min(ts) filter (where event_type = 'exception_raised'), min(ts)),
    min(ts) filter (where event_type = 'exception_resolved')
from events semi join touched_exceptions using (exception_id)
where event_type in ('exception_raised', 'exception_acknowledged', 'exception_resolved')
group by exception_id;

create temp table touched_ttr as
select distinct workflow_id, coalesce(exception_class, 'UNKNOWN') as exception_class,
    cast(date_trunc('week', resolved_at) as date) as week_start
from (
    select * from old_exceptions
    union all
    select floor_exceptions.* from floor_exceptions semi join touched_exceptions using (exception_id)
)
where resolved_at is not null;

delete from floor_exception_ttr
where (workflow_id, exception_class, week_start) in (select (workflow_id, exception_class, week_start) from touched_ttr);

insert into floor_exception_ttr
select
    workflow_id,
    coalesce(exception_class, 'UNKNOWN') as exception_class,
    cast(date_trunc('week', resolved_at) as date) as week_start,
    count(*),
    quantile_cont(date_diff('microsecond', raised_at, resolved_at) / 1000000.0, 0.5),
    quantile_cont(date_diff('microsecond', raised_at, resolved_at) / 1000000.0, 0.9)
from floor_exceptions
where resolved_at is not null
    and (workflow_id, coalesce(exception_class, 'UNKNOWN'), cast(date_trunc('week', resolved_at) as date))
        in (select (workflow_id, exception_class, week_start) from touched_ttr)
group by all;
