{#- In an incremental process-mining mart keyed by case (workflow_id, case_id) that reads
    int_case_events_sequenced as `relation_alias`: a condition keeping the events of the cases the
    table is missing (its pre_hook, mart_delete_recomputed, deleted the cases landed since the last
    build); true on a full build. mart_missing_keys_filter's anti-join, behind a cheap filter on
    the case's max_loaded_at: the pre_hook deletes exactly the cases whose max_loaded_at is past the
    table's _loaded_through (an empty table: every case), so only their events reach the anti-join
    instead of every event in the warehouse. The anti-join stays: it keeps a case the table still
    has (e.g. when rows of several builds remain and the max is older) from being inserted twice;
    behind the mark it looks up only those cases among the kept ones (missing_keys_anti_join).
    relation_alias names int_case_events_sequenced. -#}
{% macro pm_missing_cases_filter(relation_alias) -%}
{%- if is_incremental() -%}
    {%- set mark = mart_kept_loaded_through() -%}
    {%- if mark is not none %}
    -- a literal (read before the pre_hook): DuckDB prunes the scan by max_loaded_at's zone maps
    {{ relation_alias }}.max_loaded_at > {{ mark }}
    and {{ missing_keys_anti_join(relation_alias, ['workflow_id', 'case_id'],
        'select workflow_id, case_id from ' ~ ref('int_case_events_sequenced') ~ ' where max_loaded_at > ' ~ mark) | indent(4) }}
    {%- else %}
    (
        {{ relation_alias }}.max_loaded_at > (select max(_loaded_through) from {{ this }})
        or (select max(_loaded_through) from {{ this }}) is null
    )
    and {{ missing_keys_anti_join(relation_alias, ['workflow_id', 'case_id']) | indent(4) }}
    {%- endif %}
{%- else -%}
    true
{%- endif -%}
{%- endmacro %}

