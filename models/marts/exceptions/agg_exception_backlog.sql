{#- The "aging exceptions" panel: the exceptions open as of as_of, one row per routed owner x
    severity x age bucket (the age relative to the workflow's resolution SLO), with backlog_rank 1
    for the group holding the oldest exception. Only non-empty groups have a row. Definitions: doc
    blocks in _exceptions__docs.md (exception_backlog, exception_age_bucket and the metric blocks). -#}

with

exceptions as (

    select * from {{ ref('fct_exceptions') }}

),

open_exceptions as (

    select
        exception_id,
        routed_owner,
        severity,
        case
            when severity is null then 'unknown'
            else 'sev' || cast(severity as varchar)
        end as severity_label,

        -- exactly at 1x (or 2x) the target stays in the lower bucket, as in resolution_breached
        case
            when resolution_target_seconds is null then 'no_slo'
            when age_seconds <= resolution_target_seconds then 'within_slo'
            when age_seconds <= 2 * resolution_target_seconds then 'slo_1x_to_2x'
            else 'over_2x_slo'
        end as age_bucket,

        raised_at,
        age_seconds,
        first_touch_at is null as is_untouched,
        first_touch_breached,
        aging_alert_breached,
        -- open exceptions are recomputed on every build (fct_exceptions), so theirs is the current as_of
        _as_of_ts as as_of_ts

    from exceptions
    where is_open

),

ranked_within_group as (

    select
        open_exceptions.*,
        -- 1 = the oldest of its group (ties: lowest exception_id), for drill-down
        row_number() over (
            partition by routed_owner, severity_label, age_bucket
            order by raised_at, exception_id
        ) as age_rank_in_group

    from open_exceptions

),

grouped as (

    select
        routed_owner,
        severity_label,
        age_bucket,
        max(severity) as severity,

        count(*) as open_exceptions,
        sum(case when is_untouched then 1 else 0 end) as untouched_exceptions,
        sum(case when first_touch_breached then 1 else 0 end) as first_touch_breached_exceptions,
        sum(case when aging_alert_breached then 1 else 0 end) as aging_alert_breached_exceptions,

        max(case when age_rank_in_group = 1 then exception_id end) as oldest_exception_id,
        min(raised_at) as oldest_raised_at,
        max(age_seconds) as oldest_age_seconds,
        {{ percentile_cont('age_seconds', 0.5) }} as median_age_seconds,

        max(as_of_ts) as as_of_ts

    from ranked_within_group
    group by routed_owner, severity_label, age_bucket

),

final as (

    select
        routed_owner,
        severity_label,
        cast(severity as integer) as severity,
        age_bucket,
        cast(
            case age_bucket
                when 'within_slo' then 1
                when 'slo_1x_to_2x' then 2
                when 'over_2x_slo' then 3
                else 4
            end as integer
        ) as age_bucket_order,

        cast(open_exceptions as bigint) as open_exceptions,
        cast(untouched_exceptions as bigint) as untouched_exceptions,
        cast(first_touch_breached_exceptions as bigint) as first_touch_breached_exceptions,
        cast(aging_alert_breached_exceptions as bigint) as aging_alert_breached_exceptions,

        oldest_exception_id,
        oldest_raised_at,
        cast(oldest_age_seconds as double) as oldest_age_seconds,
        -- rounded to the microsecond: hides interpolation float noise
        cast(round(median_age_seconds, 6) as double) as median_age_seconds,

        -- oldest first, the order of the panel; ties broken by owner, severity, bucket so the rank is unique
        cast(
            row_number() over (
                order by oldest_age_seconds desc, routed_owner asc, severity_label asc, age_bucket asc
            ) as integer
        ) as backlog_rank,

        as_of_ts

    from grouped

)

select * from final
