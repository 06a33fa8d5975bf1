{#- One row per SLO burn-rate alert episode: registered workflow x SLI x window pair of the SRE
    workbook's multi-window, multi-burn-rate table, from the first 5-minute instant both windows burn
    faster than the pair's rate to the first instant they no longer do (resolved) or as_of (firing).
    Definitions: doc blocks slo_burn_rate, slo_burn_alert in _alerting__docs.md. -#}

with

burn as (

    select * from {{ ref('int_slo_burn_rates') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

window_pairs as (

    -- severity, long / short window and burn-rate threshold (SRE workbook, chapter 5, table 5-8)
    select 'page' as severity, '1h' as long_window_label, '5m' as short_window_label, 60 as long_window_minutes,
        5 as short_window_minutes, 14.4 as burn_rate_threshold
    union all
    select 'page' as severity, '6h' as long_window_label, '30m' as short_window_label, 360 as long_window_minutes,
        30 as short_window_minutes, 6.0 as burn_rate_threshold
    union all
    select 'ticket' as severity, '1d' as long_window_label, '2h' as short_window_label, 1440 as long_window_minutes,
        120 as short_window_minutes, 3.0 as burn_rate_threshold
    union all
    select 'ticket' as severity, '3d' as long_window_label, '6h' as short_window_label, 4320 as long_window_minutes,
        360 as short_window_minutes, 1.0 as burn_rate_threshold

),

evaluated as (

    select
        burn.workflow_id,
        burn.sli,
        burn.objective_pct,
        burn.instant_bucket,
        burn.evaluated_at,
        burn.is_latest_instant,
        burn.slo_window_days,
        window_pairs.*,
        case window_pairs.long_window_label
            when '1h' then burn.burn_rate_1h
            when '6h' then burn.burn_rate_6h
            when '1d' then burn.burn_rate_1d
            when '3d' then burn.burn_rate_3d
        end as long_burn_rate,
        case window_pairs.short_window_label
            when '5m' then burn.burn_rate_5m
            when '30m' then burn.burn_rate_30m
            when '2h' then burn.burn_rate_2h
            when '6h' then burn.burn_rate_6h
        end as short_burn_rate

    from burn
    cross join window_pairs

),

firing_instants as (

    -- both windows above the threshold (strictly: exactly at it does not fire)
    select
        evaluated.*,
        instant_bucket - row_number() over (
            partition by workflow_id, sli, long_window_label order by instant_bucket
        ) as island

    from evaluated
    where long_burn_rate > burn_rate_threshold
        and short_burn_rate > burn_rate_threshold

),

episodes as (

    select
        workflow_id,
        sli,
        severity,
        long_window_label,
        short_window_label,
        long_window_minutes,
        short_window_minutes,
        burn_rate_threshold,
        objective_pct,
        slo_window_days,
        min(evaluated_at) as fired_at,
        max(evaluated_at) as last_firing_at,
        max(case when is_latest_instant then 1 else 0 end) as is_firing_at_as_of,
        max(long_burn_rate) as peak_long_burn_rate,
        max(short_burn_rate) as peak_short_burn_rate,
        {{ first_value_by('long_burn_rate', 'evaluated_at', 'workflow_id') }} as long_burn_rate_at_fire,
        {{ first_value_by('short_burn_rate', 'evaluated_at', 'workflow_id') }} as short_burn_rate_at_fire

    from firing_instants
    group by workflow_id, sli, severity, long_window_label, short_window_label, long_window_minutes,
        short_window_minutes, burn_rate_threshold, objective_pct, slo_window_days, island

),

latest as (

    select
        workflow_id,
        sli,
        valid_slo_window,
        bad_slo_window,
        burn_rate_1h,
        burn_rate_6h,
        burn_rate_1d,
        burn_rate_3d

    from burn
    where is_latest_instant

),

final as (

    select
        {{ surrogate_key(['episodes.workflow_id', 'episodes.sli', 'episodes.long_window_label', alert_timestamp_text('episodes.fired_at')]) }}
            as slo_alert_key,
        episodes.workflow_id,
        episodes.sli,
        episodes.sli || ':' || episodes.long_window_label || '/' || episodes.short_window_label as alert_name,
        episodes.severity,
        case when episodes.is_firing_at_as_of = 1 then 'firing' else 'resolved' end as status,
        episodes.fired_at,
        case
            when episodes.is_firing_at_as_of = 0
                then {{ timestamp_add_seconds('episodes.last_firing_at', 300) }}
        end as resolved_at,
        episodes.long_window_label,
        episodes.short_window_label,
        cast(episodes.long_window_minutes as integer) as long_window_minutes,
        cast(episodes.short_window_minutes as integer) as short_window_minutes,
        cast(episodes.burn_rate_threshold as double) as burn_rate_threshold,
        cast(round(episodes.long_burn_rate_at_fire, 6) as double) as long_burn_rate_at_fire,
        cast(round(episodes.short_burn_rate_at_fire, 6) as double) as short_burn_rate_at_fire,
        cast(round(episodes.peak_long_burn_rate, 6) as double) as peak_long_burn_rate,
        cast(round(episodes.peak_short_burn_rate, 6) as double) as peak_short_burn_rate,
        episodes.objective_pct,
        cast(episodes.slo_window_days as integer) as slo_window_days,
        latest.valid_slo_window as slo_window_valid_events,
        latest.bad_slo_window as slo_window_bad_events,
        -- the share of the SLO window's error budget left at as_of (negative: overspent; null: no valid event)
        case
            when latest.valid_slo_window = 0 or episodes.objective_pct >= 100 then null
            else cast(round(100.0 * (1.0 - latest.bad_slo_window
                / (latest.valid_slo_window * (1.0 - episodes.objective_pct / 100.0))), 6) as double)
        end as budget_remaining_pct,
        as_of.as_of_ts

    from episodes
    left join latest
        on episodes.workflow_id = latest.workflow_id
        and episodes.sli = latest.sli
    cross join as_of

)

select * from final
