{#- One row per workflow x ISO week (week_start = the Monday, UTC) over all regions (region 'all'),
    from the workflow's first to its last week with activity: the grain the demo summary prints.
    Built from fct_workflow_runs (percentiles do not add up over regions). SQL shared with
    agg_workflow_weekly and agg_workflow_daily: macros/marts/aggregate_runs_by_period.sql. -#}
{{ aggregate_runs_by_period(ref('fct_workflow_runs'), 'week', grain='workflow') }}
