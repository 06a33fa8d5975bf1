{#- The cross-database macros against answers worked out by hand, on whichever engine runs the
    build: a row comes back for every macro that disagrees. -#}

with

week_bounds as (

    select
        cast('2026-11-16' as date) as first_week,
        cast('2026-11-30' as date) as last_week

),

week_spine as (

    {{ period_spine('week_bounds', 'first_week', 'last_week', 'week', 'week_start') }}

),

month_bounds as (

    select cast('2026-01-01' as date) as first_month, cast('2026-03-01' as date) as last_month

),

month_spine as (

    {{ period_spine('month_bounds', 'first_month', 'last_month', 'month', 'month_start') }}

),

percentiles as (

    select
        round({{ percentile_cont('x', 0.5) }}, 3) as p50,
        round({{ percentile_cont('x', 0.9) }}, 3) as p90
    from (values (100.0), (200.0), (300.0), (400.0), (1000.0)) as cycle_times (x)

),

shared_percentiles as (

    -- the same quantiles with fractions: one list quantile on DuckDB, each call its element
    select
        round({{ percentile_cont('x', 0.5, fractions=[0.5, 0.9]) }}, 3) as p50,
        round({{ percentile_cont('x', 0.9, fractions=[0.5, 0.9]) }}, 3) as p90,
        round({{ percentile_cont('x', 0.5) }}, 3) as p50_alone
    from (values (100.0), (200.0), (300.0), (400.0), (1000.0), (cast(null as double))) as cycle_times (x)

),

string_aggregates as (

    -- a case's sequence in seq order (duplicates kept, nulls skipped), and its distinct values sorted
    select
        g,
        {{ string_agg_ordered('v', 'seq', ' > ') }} as ordered,
        {{ string_agg_distinct('v') }} as distinct_sorted
    from (
        values
            ('g1', 3, 'b'), ('g1', 1, 'c'), ('g1', 2, 'a'), ('g1', 4, cast(null as varchar)), ('g1', 5, 'c'),
            ('g2', 1, cast(null as varchar))
    ) as seq_rows (g, seq, v)
    group by g

),

first_values as (

    -- first_value_by: rows (priority, ts, id, value); the first row by (priority, ts, id) with a value
    select
        {{ first_value_by('v', 'ts', 'id', priority='p') }} as by_priority,
        {{ first_value_by('v', 'ts', 'id') }} as by_time,
        {{ first_value_by("case when p = 1 then v end", 'ts', 'id') }} as only_priority_1,
        {{ first_value_by("case when p = 9 then v end", 'ts', 'id') }} as none_matching
    from (
        values
            (1, cast('2026-11-22 10:00:00' as timestamp), 'e1', 'early'),
            (0, cast('2026-11-22 11:00:00' as timestamp), 'e3', 'start_b'),
            (0, cast('2026-11-22 11:00:00' as timestamp), 'e2', 'start_a'),
            (0, cast('2026-11-22 09:00:00' as timestamp), 'e0', cast(null as varchar)),
            (1, cast('2026-11-22 10:00:00.000001' as timestamp), 'a4', 'later')
    ) as picked (p, ts, id, v)

),

key_rows as (

    select k1, k2
    from (
        values ('w1', 'r1'), ('w1', 'r2'), ('w2', 'r1'), ('w3', cast(null as varchar))
    ) as outer_keys (k1, k2)

),

matched_keys as (

    -- matches_query_row under OR, as the incremental deletes use it (Snowflake gets its correlated count):
    -- (w1, r2) and (w2, r1) are rows of the query; (w1, r1) is not; (w3, null) never matches
    select k1, k2
    from key_rows
    where k1 = 'w9'
        or {{ matches_query_row('k1, k2',
            "select a, b from (values ('w1', 'r2'), ('w2', 'r1'), ('w3', cast(null as varchar)), (cast(null as varchar), 'r1')) as query_keys (a, b)",
            'a, b') }}

),

checks as (

    select 'week_start: Sunday 23:59:59 belongs to the week of the Monday before' as check_name,
        {{ week_start("cast('2026-11-22 23:59:59' as timestamp)") }} = cast('2026-11-16' as date) as ok
    union all
    select 'week_start: Monday 00:00:00 starts its own week',
        {{ week_start("cast('2026-11-23 00:00:00' as timestamp)") }} = cast('2026-11-23' as date)
    union all
    select 'week_start: of a date',
        {{ week_start("cast('2026-11-29' as date)") }} = cast('2026-11-23' as date)
    union all
    select 'day_start: last microsecond of a day',
        {{ day_start("cast('2026-11-22 23:59:59.999999' as timestamp)") }} = cast('2026-11-22' as date)
    union all
    select 'month_start',
        {{ month_start("cast('2026-11-22 10:00:00' as timestamp)") }} = cast('2026-11-01' as date)
    union all
    select 'seconds_between: across midnight, fractional',
        {{ seconds_between("cast('2026-11-22 23:59:59' as timestamp)", "cast('2026-11-23 00:00:00.5' as timestamp)") }} = 1.5
    union all
    select 'seconds_between: negative when end precedes start',
        {{ seconds_between("cast('2026-11-23 00:00:00.5' as timestamp)", "cast('2026-11-22 23:59:59' as timestamp)") }} = -1.5
    union all
    select 'seconds_between: a month apart (microseconds past 32 bits)',
        {{ seconds_between("cast('2026-11-01 00:00:00' as timestamp)", "cast('2026-12-01 00:00:00' as timestamp)") }} = 2592000.0
    union all
    select 'add_days: back across a month end, as a date',
        {{ add_days("cast('2026-03-01' as date)", -1) }} = cast('2026-02-28' as date)
    union all
    select 'add_days: of a timestamp, as a date',
        {{ add_days("cast('2026-11-22 23:00:00' as timestamp)", 7) }} = cast('2026-11-29' as date)
    union all
    select 'surrogate_key: md5 of the values joined with |',
        {{ surrogate_key(["'fulfillment_v2'", "'r_on_slo'"]) }} = 'b586388afb550546471f00045306c472'
    union all
    select 'surrogate_key: null position matters',
        {{ surrogate_key(["'a'", "cast(null as varchar)"]) }} <> {{ surrogate_key(["cast(null as varchar)", "'a'"]) }}
    union all
    select 'json_get_text: present key',
        {{ json_get_text("'{\"trigger\": \"api\", \"n\": 3}'", 'trigger') }} = 'api'
    union all
    select 'json_get_text: absent key is null',
        {{ json_get_text("'{\"trigger\": \"api\"}'", 'missing') }} is null
    union all
    select 'percentile_cont: p50 of 100, 200, 300, 400, 1000 is 300',
        (select p50 from percentiles) = 300
    union all
    select 'percentile_cont: p90 of 100, 200, 300, 400, 1000 is 760',
        (select p90 from percentiles) = 760
    union all
    select 'percentile_cont with fractions: p50 300 and p90 760, nulls ignored, as computed alone',
        (select p50 = 300 and p90 = 760 and p50_alone = p50 from shared_percentiles)
    union all
    select 'string_agg_ordered: in seq order, duplicates kept, nulls skipped',
        (select ordered from string_aggregates where g = 'g1') = 'c > a > b > c'
    union all
    select 'string_agg_distinct: distinct values sorted, nulls skipped',
        (select distinct_sorted from string_aggregates where g = 'g1') = 'a,b,c'
    union all
    select 'string_agg_ordered / string_agg_distinct: a group with no value gives no text (null; listagg may give empty)',
        (select coalesce(ordered, '') = '' and coalesce(distinct_sorted, '') = '' from string_aggregates where g = 'g2')
    union all
    select 'period_spine: 2026-11-16 .. 2026-11-30 is three weeks',
        (select count(*) from week_spine) = 3
    union all
    select 'period_spine: weeks step by 7 days',
        (select max(week_start) from week_spine) = cast('2026-11-30' as date)
    union all
    select 'period_spine: months 2026-01 .. 2026-03 are three', (select count(*) from month_spine) = 3
    union all
    select 'period_spine: months step to the 1st across February',
        (select max(month_start) from month_spine) = cast('2026-03-01' as date)
    union all
    select 'timestamp_add_seconds: snooze + target crosses midnight into the next ISO week',
        {{ timestamp_add_seconds("cast('2026-11-22 23:20:00' as timestamp)", '2700.0') }} = cast('2026-11-23 00:05:00' as timestamp)
    union all
    select 'first_value_by: priority first, then time, then id (the null value at 09:00 is skipped)',
        (select by_priority from first_values) = 'start_a'
    union all
    select 'first_value_by: without priority, the earliest row with a value',
        (select by_time from first_values) = 'early'
    union all
    select 'first_value_by: a microsecond apart is ordered (the later row has the lower id)',
        (select only_priority_1 from first_values) = 'early'
    union all
    select 'first_value_by: null when no row has a value',
        (select none_matching from first_values) is null
    union all
    select 'matches_query_row: under OR, exactly the two keys the query holds (nulls never match)',
        (select count(*) from matched_keys) = 2
        and (select count(*) from matched_keys where (k1 = 'w1' and k2 = 'r2') or (k1 = 'w2' and k2 = 'r1')) = 2
    union all
    select 'timestamp_add_seconds: fractional seconds',
        {{ timestamp_add_seconds("cast('2026-11-22 23:59:59' as timestamp)", '0.5') }} = cast('2026-11-22 23:59:59.5' as timestamp)

)

select check_name
from checks
where not coalesce(ok, false)
