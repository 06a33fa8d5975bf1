{#- One row: the instant every "as of" metric is computed at (ages of open exceptions, backlog,
    month-to-date burn, the leaderboard's last 4 weeks). Doc block as_of in
    models/marts/exceptions/_exceptions__docs.md.

    dbt var `as_of` (ISO 8601, UTC, e.g. '2026-11-16 06:00:00') pins it; by default it is the latest
    event_ts in the warehouse, so rebuilding the same data gives the same answer. -#}

-- depends_on: {{ ref('int_log_completeness_violations') }}
-- (the gate: a failing error-severity log-completeness check skips this model; _int_quality__models.yml)

{%- set as_of = var('as_of', none) -%}
{%- if as_of is not none and not modules.re.match('^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$', as_of | string) -%}
    {{ exceptions.raise_compiler_error("var as_of must be an ISO 8601 UTC timestamp like '2026-11-16 06:00:00', got " ~ (as_of | string)) }}
{%- endif %}

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
        {% if as_of is not none -%}
        cast('{{ as_of | string | replace("T", " ") }}' as timestamp) as as_of_ts,
        {%- else -%}
        latest_event_at as as_of_ts,
        {%- endif %}
        latest_event_at,
        {{ 'true' if as_of is not none else 'false' }} as is_pinned

    from latest

)

select * from final
