{#- An aggregate (use it in a group by): the value of the FIRST row of the group that has a non-null
    value, rows ordered by (priority, timestamp, tiebreak) ascending. priority is an optional small
    integer expression (0-9: lower first, e.g. "case when is_run_start then 0 else 1 end"); tiebreak
    a non-null string (the event_id), so the choice is deterministic. Null when no row has a value.

    One hash aggregate, instead of row_number() over (partition by ... order by ...) and a second
    pass: at 10M events that window was the most expensive operator of the build (docs/benchmarks.md).
    Rows with a null value are skipped on every engine (the key is nulled for them), so "the earliest
    event naming an owner" is first_value_by('owner', 'event_ts', 'event_id'). -#}
{% macro first_value_by(value, timestamp, tiebreak, priority=none) -%}
    {{ return(adapter.dispatch('first_value_by', 'command_center')(value, timestamp, tiebreak, priority)) }}
{%- endmacro %}

{% macro default__first_value_by(value, timestamp, tiebreak, priority) -%}
    {#- a sortable string key: priority digit, microseconds since the epoch zero-padded, tiebreak -#}
    min_by(
        {{ value }},
        case when {{ value }} is not null then
            {% if priority is not none %}cast({{ priority }} as varchar) || '|' || {% endif -%}
            lpad(cast({{ seconds_between("cast('1970-01-01' as timestamp)", timestamp) }} * 1000000 as bigint) as varchar), 20, '0')
            || '|' || {{ tiebreak }}
        end
    )
{%- endmacro %}

{% macro duckdb__first_value_by(value, timestamp, tiebreak, priority) -%}
    {#- arg_min with a row key: rows compare field by field; arg_min skips rows whose value or key is null -#}
    arg_min(
        {{ value }},
        case when {{ value }} is not null then
            ({% if priority is not none %}{{ priority }}, {% endif %}{{ timestamp }}, {{ tiebreak }})
        end
    )
{%- endmacro %}

{% macro snowflake__first_value_by(value, timestamp, tiebreak, priority) -%}
    {#- min_by ignores null keys; the key is a string that sorts like (priority, timestamp, tiebreak) -#}
    min_by(
        {{ value }},
        case when {{ value }} is not null then
            {% if priority is not none %}to_varchar({{ priority }}) || '|' || {% endif -%}
            lpad(to_varchar(timestampdiff(microsecond, '1970-01-01'::timestamp_ntz, {{ timestamp }})), 20, '0')
            || '|' || {{ tiebreak }}
        end
    )
{%- endmacro %}
