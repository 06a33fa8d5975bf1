{#- Log-completeness check daily_volume: a day's events below a share of both the trailing 7-day median and the same weekday's median.
    Renders its CTEs (each ending with a comma; the last one is named daily_volume) over the shared CTEs of
    base_ctes.sql. The rule in words: doc block log_completeness_daily_volume in
    models/marts/quality/_quality__docs.md. -#}
{% macro log_completeness_check_daily_volume(s) -%}
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
{%- endmacro %}
