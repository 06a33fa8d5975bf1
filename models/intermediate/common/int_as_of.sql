{#- One row: the instant every "as of" metric is computed at (ages of open exceptions, backlog,
    month-to-date burn, the leaderboard's last 4 weeks). Doc block as_of in
    models/marts/exceptions/_exceptions__docs.md.

    dbt var `as_of` (ISO 8601, UTC, e.g. '2026-11-16 06:00:00') pins it; by default it is the latest
    event_ts in the warehouse, so rebuilding the same data gives the same answer. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

{%- set pinned = pinned_as_of() %}

with

events as (

    select * from {{ ref('stg_command_center__workflow_events') }}

),

latest as (

    select max(event_ts) as latest_event_at
    from events

),

final as (

    select
        {% if pinned is not none -%}
        {{ pinned }} as as_of_ts,
        {%- else -%}
        latest_event_at as as_of_ts,
        {%- endif %}
        latest_event_at,
        {{ 'true' if pinned is not none else 'false' }} as is_pinned

    from latest

)

select * from final
