{#- agg_log_completeness_daily, incremental (doc block log_completeness_daily_recompute in
    models/marts/quality/_quality__docs.md): the first day whose event counts this build recounts from
    the events, as an SQL date literal read when the model is compiled (before its pre_hook), or none -
    at parse, in a unit test, on a full build, on an empty table, and when the pre_hook deletes every row
    (mart_recompute_everything: a pinned as_of, a register change, a retention cut). Then every day is
    recounted.

    The table's mark is max(_loaded_through): the landing high-water mark of the last build that wrote
    rows. A day before the floor has the same events now as then:
      - no event landed since the mark lies before it: the floor is at or before the day of the earliest
        event_ts loaded after the mark (or with no loaded_at), whatever its age (late, out of order);
      - no event counted or left out as future-dated then is counted differently now: an event is left
        out when a no_future_events violation names it, i.e. it is dated past the skew after its landing
        (fixed when it landed: new events only, at or after the floor) or past the skew after the real
        clock of the build. The clock only moves forward and a build runs after the loads it reads, so
        an event future at an earlier build is dated after that build's mark, and the floor is at or
        before the day of the mark.
    Everything else in the mart (runs, violations, the spine's bounds) is recomputed every build from
    int_runs_summarized and int_log_completeness_violations (narrow, small); only the event counts of
    the days before the floor are read back from the table (events scan pruned by zone maps on the literal). -#}
{% macro log_completeness_daily_events_floor(events_relation) -%}
{%- if not execute or model.resource_type == 'unit_test' or not is_incremental() -%}
    {{ return(none) }}
{%- endif -%}
{%- set state = run_query(
    'select (select cast(max(_loaded_through) as varchar) from ' ~ this ~ ') as mark, '
    ~ mart_recompute_everything() ~ ' as everything'
).rows -%}
{%- if state[0][0] is none or state[0][1] -%}
    {{ return(none) }}
{%- endif -%}
{%- set mark = "cast('" ~ state[0][0] ~ "' as timestamp)" -%}
{%- set rows = run_query(
    'select cast(' ~ day_start('coalesce(min(event_ts), ' ~ mark ~ ')') ~ ' as varchar),'
    ~ ' cast(' ~ day_start(mark) ~ ' as varchar)'
    ~ ' from ' ~ events_relation
    ~ ' where loaded_at is null or loaded_at > ' ~ mark
).rows -%}
{%- set floor = [rows[0][0], rows[0][1]] | min -%}
{{ return("cast('" ~ floor ~ "' as date)") }}
{%- endmacro %}
