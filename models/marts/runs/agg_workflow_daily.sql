{#- One row per workflow x region x UTC day, from the first to the last day with activity.
    The SQL is shared with agg_workflow_weekly: macros/marts/aggregate_runs_by_period.sql. -#}
{{ aggregate_runs_by_period(ref('fct_workflow_runs'), 'day') }}
