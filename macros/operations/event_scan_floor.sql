{#- A lower bound on the event_ts of every event of a set of runs, as an SQL timestamp literal read at
    run time (run_query), or none. The "now" models (models/intermediate/operations) read the events of a
    few runs (in flight, or completed in the reference window); a filter `event_ts >= <literal>` lets
    DuckDB skip the older row groups of the event table by their zone maps instead of probing every
    event of the history (a filter on a subquery's min() is not pushed into the scan, a constant is).
    runs_sql: a query returning one column, the first_event_at (int_runs_summarized: the min event_ts of
    ALL the run's events) of the runs the model reads - so the filter only drops events of other runs,
    and the rows are the same with or without it. None (no filter, the scan reads every event) at parse,
    in a unit test (its refs are fixtures), when a relation in `requires` (the refs runs_sql reads) is not
    built yet (`dbt compile` / `dbt docs generate` on a new warehouse), or when the query finds no run. -#}
{% macro run_events_scan_floor(runs_sql, requires=[]) -%}
    {%- if not execute or model.resource_type == 'unit_test' or not scan_floor_relations_exist(requires) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query('select cast(min(first_event_at) as varchar) from (' ~ runs_sql ~ ') as runs') -%}
    {%- set floor = rows.rows[0][0] if rows and rows.rows | length > 0 else none -%}
    {%- if floor is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ floor ~ "' as timestamp)") }}
{%- endmacro %}


{#- The least stuck threshold of the register (stg_governance__stuck_thresholds, seconds) as an SQL number
    literal read at run time, or none (at parse, in a unit test, before the staging view exists, or without
    thresholds). An attempt no
    longer than it is under every threshold: fct_alert_episodes filters the stage-attempt scan with it
    before the joins (the rows are the same with or without it). -#}
{% macro stuck_threshold_floor_seconds() -%}
    {%- if not execute or model.resource_type == 'unit_test'
          or not scan_floor_relations_exist([ref('stg_governance__stuck_thresholds')]) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query('select cast(min(threshold_seconds) as double) from ' ~ ref('stg_governance__stuck_thresholds')) -%}
    {%- set floor = rows.rows[0][0] if rows and rows.rows | length > 0 else none -%}
    {%- if floor is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('cast(' ~ floor ~ ' as double)') }}
{%- endmacro %}


{#- True when every relation of the list exists in the warehouse (a literal read at run time needs its
    inputs built: a `dbt compile` or `dbt docs generate` on a new warehouse has none of them). -#}
{% macro scan_floor_relations_exist(relations) -%}
    {%- for relation in relations -%}
        {%- if adapter.get_relation(database=relation.database, schema=relation.schema,
                                    identifier=relation.identifier) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}
