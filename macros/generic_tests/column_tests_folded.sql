{#- The nightly build's folded column tests: one test node per model that evaluates, in one
    scan, every single-column test of that model the nightly selector leaves out as separate nodes.

    Why: the nightly build's cost at any history size was mostly dbt's fixed cost per node (~0.1 s of
    Python per test node on a 2-core machine, docs/benchmarks.md "The nightly build"); a model with ten
    `not_null` columns cost ten nodes and ten scans. The tests themselves stay defined once, where they
    are, in the models' YAML: this test reads them from dbt's graph at run time and evaluates the same
    failing-row conditions (`column_tests_folded_condition`). The weekly full check and every plain
    `dbt build` still run each of them as its own node.

    Folded (`column_tests_folded_members`): data tests named not_null, accepted_values or
    accepted_range with severity error, not tagged full_history, whose only parent is this model (a
    model, seed or snapshot: the tests of raw sources stay nodes of their own, as Dagster maps them to
    checks on the landing assets whatever the selector). The
    nightly selector (selectors.yml) excludes exactly those; tests/integration/test_manifest_conventions.py
    checks that every such test has a folded test on its parent, so none is dropped from the nightly build.

    Result: one row per member test with failing rows (test_name, failing_rows); dbt counts the rows, so
    the test fails when any member would have failed, and its output names which. A folded test with
    no member is an error (it would check nothing). -#}
{% test column_tests_folded(model) %}
{%- set members = column_tests_folded_members(model) if execute else [] -%}
{%- if execute and members | length == 0 -%}
    {{ exceptions.raise_compiler_error("column_tests_folded on " ~ model ~ " folds no test: remove it, or add the column tests it should fold") }}
{%- endif %}

with counted as (

    select
        count(*) as rows_checked
        {%- for member in members %}
        , coalesce(sum(case when {{ column_tests_folded_condition(member) }} then 1 else 0 end), 0) as failing_{{ loop.index }}
        {%- endfor %}
    from {{ model }}

)

{% for member in members -%}
select
    '{{ member.name }}' as test_name,
    failing_{{ loop.index }} as failing_rows
from counted
where failing_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
{%- if members | length == 0 %}
select cast(null as {{ dbt.type_string() }}) as test_name, 0 as failing_rows from counted where false
{%- endif %}

{% endtest %}


{#- The test names a folded test evaluates (its members): see column_tests_folded above. -#}
{% macro column_tests_folded_kinds() %}
{{ return(['not_null', 'accepted_values', 'accepted_range']) }}
{% endmacro %}


{#- The graph's test nodes folded into the column_tests_folded test of `model` (a relation): single-column
    tests of a folded kind, severity error, not tagged full_history, whose only parent is that model. -#}
{% macro column_tests_folded_members(model) %}
{%- set parent_ids = [] -%}
{%- for node in graph.nodes.values() -%}
    {%- if node.resource_type in ['model', 'seed', 'snapshot']
          and (node.schema | lower) == (model.schema | lower)
          and ((node.alias or node.name) | lower) == (model.identifier | lower) -%}
        {%- do parent_ids.append(node.unique_id) -%}
    {%- endif -%}
{%- endfor -%}
{%- set members = [] -%}
{%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
    {%- if node.resource_type == 'test' and node.test_metadata
          and node.test_metadata.name in column_tests_folded_kinds()
          and (node.config.severity | lower) == 'error'
          and 'full_history' not in node.tags
          and node.depends_on.nodes | length == 1
          and node.depends_on.nodes[0] in parent_ids -%}
        {%- do members.append({'name': node.name, 'kind': node.test_metadata.name, 'kwargs': node.test_metadata.kwargs}) -%}
    {%- endif -%}
{%- endfor -%}
{{ return(members) }}
{% endmacro %}


{#- The failing-row condition of one member: the same rows its own test returns (dbt's not_null and
    accepted_values, this project's accepted_range_failing). -#}
{% macro column_tests_folded_condition(member) %}
{%- set kw = member.kwargs -%}
{%- set column = kw.column_name -%}
{%- if member.kind == 'not_null' -%}
    ({{ column }} is null)
{%- elif member.kind == 'accepted_values' -%}
    {%- set quote = kw.get('quote', true) -%}
    ({{ column }} not in (
    {%- for value in kw['values'] -%}
        {%- if quote -%}'{{ value | string | replace("'", "''") }}'{%- else -%}{{ value }}{%- endif -%}
        {{- ', ' if not loop.last -}}
    {%- endfor -%}
    ))
{%- elif member.kind == 'accepted_range' -%}
    {{ accepted_range_failing(column, kw.get('min_value'), kw.get('max_value'), kw.get('inclusive', true)) }}
{%- else -%}
    {{ exceptions.raise_compiler_error("column_tests_folded cannot fold a " ~ member.kind ~ " test") }}
{%- endif -%}
{% endmacro %}
