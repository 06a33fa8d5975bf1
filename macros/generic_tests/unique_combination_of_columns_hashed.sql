{#- The grain test of a big table, memory-bounded: fails on every combination of
    combination_of_columns held by more than one row, like unique_combination_of_columns, but the
    whole-table grouping is over one 64-bit hash of the combination (a fixed-width key DuckDB's
    aggregate spills in small blocks), not over the wide text keys themselves. Only the rows whose hash
    occurs more than once (the duplicates, and the rare hash collisions) are then grouped by their
    columns, so a collision never fails the test and a duplicate always does (equal combinations have
    equal hashes). At 100M events the plain grouping over (workflow_id, run_id, event_seq) ran out of
    memory under the 3 GB limit; docs/benchmarks.md "Scale".

    With watermark_column (the nightly companion, like unique_combination_touched_since_last_check):
    only the rows that share scope_columns (default: the whole combination; rows_sharing_touched_scope)
    with a row touched since the last passing check (watermark_column later than the recorded mark, read once as a literal:
    macros/nightly/nightly_scope.sql), counted over every row of the model in that scope, so a new row
    repeating an old row's combination fails. Before any check has passed (a first build) that scope is
    every row, and the test is the whole-table one. -#}
{% test unique_combination_of_columns_hashed(model, combination_of_columns, watermark_column=none, scope_columns=none) %}
{%- set scope = scope_columns if scope_columns else combination_of_columns %}
{%- set touched = touched_since_last_check_literal(watermark_column) if watermark_column else 'true' %}
{%- set scoped = touched | trim != 'true' %}

{%- set in_scope -%}
    {%- if scoped %}
    where {{ rows_sharing_touched_scope(scope) }}
    {%- endif %}
{%- endset %}
{#- (the model is read twice, not through one CTE: DuckDB materializes a CTE read twice, every row
    with its text columns, which is what spilled) #}
with
{%- if scoped %}

touched as (

    select distinct {{ scope | join(', ') }}
    from {{ model }}
    where {{ touched }}

),
{%- endif %}

repeated_hashes as (

    select {{ combination_hash(combination_of_columns) }} as combination_hash
    from {{ model }}
    {{- in_scope }}
    group by {{ combination_hash(combination_of_columns) }}
    having count(*) > 1

)

select
    {{ combination_of_columns | join(',\n    ') }},
    count(*) as occurrences
from {{ model }}
where {{ combination_hash(combination_of_columns) }} in (select combination_hash from repeated_hashes)
{%- if scoped %}
    and {{ rows_sharing_touched_scope(scope) }}
{%- endif %}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}


{#- One 64-bit hash of a list of columns (nulls hash to a constant, so two rows with the same nulls
    group together, like group by). Not a key to store: the hash function differs between engines; it
    only needs equal values to hash equally within one query. -#}
{% macro combination_hash(columns) -%}
    {{ return(adapter.dispatch('combination_hash')(columns)) }}
{%- endmacro %}

{% macro default__combination_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}
