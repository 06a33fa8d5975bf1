{#- One row per workflow x region x ISO week (week_start = the Monday, UTC), from the first to
    the last week with activity. Built from fct_workflow_runs, not from agg_workflow_daily:
    percentiles do not add up. SQL shared with agg_workflow_daily:
    macros/marts/aggregate_runs_by_period.sql. -#}
{{ aggregate_runs_by_period(ref('fct_workflow_runs'), 'week') }}
