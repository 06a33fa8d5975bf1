{#- The nightly build's folded tests: one test node per model that evaluates every test of that model
    the nightly selector leaves out as nodes of their own.

    Why: the nightly build's cost at any history size was mostly dbt's fixed cost per node (~0.1 s of
    Python per test node on a 2-core machine, docs/benchmarks.md "The nightly build"); a model with ten
    `not_null` columns and a grain test cost eleven nodes. The tests themselves stay defined once, where
    they are, in the models' YAML: this test reads them from dbt's graph at run time. The weekly full
    check and every plain `dbt build` still run each of them as its own node.

    Members (`model_tests_folded_members`): the data tests of severity error, not tagged full_history,
    whose only parent is this model (a model, seed or snapshot: the tests of raw sources stay nodes of
    their own, as Dagster maps them to checks on the landing assets whatever the selector), of a folded
    kind (`model_tests_folded_kinds`):
    - row kinds, evaluated together in one scan of the model, each by its failing-row condition
      (`model_tests_folded_condition`): not_null, accepted_values, accepted_range, and expression_is_true
      when tagged `nightly_folded` (an expression without ref() or source(): it is rendered here, in
      this test's context);
    - grain kinds, each by its own test's SQL (the same macro, so one definition), counted in a
      subquery: unique, unique_combination_of_columns, unique_combination_of_columns_hashed and the
      nightly companions unique_touched_since_last_check, unique_combination_touched_since_last_check.
    A member's `where` config narrows its rows as it does for the test on its own. The nightly selector
    (selectors.yml) excludes exactly those; tests/integration/test_manifest_conventions.py checks that
    every such test has a folded test on its parent, so none is dropped from the nightly build, and
    test_nightly_build.py that the selector leaves out exactly the members.

    Result: one row per member test that fails (test_name, failing_rows: the rows its own test would
    return); dbt counts the rows, so the test fails when any member would have failed, and its output
    names which. A folded test with no member is an error (it would check nothing).

    watermark_column (optional): in the nightly build only, the row members look at the rows touched
    since the last passing check (touched_since_last_check_literal: the column later than the recorded
    mark, or null), not every row, as the grain tests' nightly companions do. A row member's verdict
    on a row depends on that row alone, so a row not rewritten since a check passed still passes; the weekly full check (and every plain build) runs
    each member over every row, and catches a row changed outside landing. Give it only where every row
    written or rewritten since the last passing check carries a later value:
    - an incremental table: _loaded_through (the landing high-water mark of the build that wrote the
      row, macros/incremental/mart_recompute.sql), or a key-level max_loaded_at that is recomputed with
      every row of its key (a key with a new event gets the new event's loaded_at on every row);
    - a view over the append-only raw events: loaded_at.
    Like the companions, a night with nothing newly landed checks no row of such a model: the rows it
    rewrites (those whose values move with as_of) carry the last passing build's mark, not a later one;
    the next night with new data or the weekly full check evaluates them.
    tests/integration/test_manifest_conventions.py checks the column exists and the model is
    incremental or a view over raw (meta append_only). The grain members keep their own SQL: their
    nightly companions are already scoped by the same mark. -#}
{% test model_tests_folded(model, watermark_column=none) %}
{%- set members = model_tests_folded_members(model) if execute else [] -%}
{%- if execute and members | length == 0 -%}
    {{ exceptions.raise_compiler_error("model_tests_folded on " ~ model ~ " folds no test: remove it, or add the tests it should fold") }}
{%- endif -%}
{#- the nightly row scope (a literal mark, so DuckDB prunes the scan with zone maps), or none: every row -#}
{%- set row_scope = touched_since_last_check_literal(watermark_column) if (watermark_column and is_nightly_build()) else none -%}
{%- set row_members = [] -%}
{%- set grain_members = [] -%}
{%- for member in members -%}
    {%- do (row_members if member.kind in model_tests_folded_kinds()['row'] else grain_members).append(member) -%}
{%- endfor %}

with
{%- for member in grain_members %}

grain_{{ loop.index }} as (

    select count(*) as failing_rows
    from (
        {{ model_tests_folded_own_sql(member, model) | indent(8) }}
    ) as failing

),
{%- endfor %}

counted as (

    select
        count(*) as rows_checked
        {%- for member in row_members %}
        , coalesce(sum(case when {{ model_tests_folded_condition(member) }} then 1 else 0 end), 0) as failing_{{ loop.index }}
        {%- endfor %}
    from {{ model if row_members else '(select 1 as one) as no_row_member' }}
    {%- if row_members and row_scope %}
    where {{ row_scope }}
    {%- endif %}

)

select cast(null as {{ dbt.type_string() }}) as test_name, 0 as failing_rows from counted where false
{%- for member in row_members %}
union all
select
    '{{ member.name }}' as test_name,
    failing_{{ loop.index }} as failing_rows
from counted
where failing_{{ loop.index }} > 0
{%- endfor %}
{%- for member in grain_members %}
union all
select
    '{{ member.name }}' as test_name,
    failing_rows
from grain_{{ loop.index }}
where failing_rows > 0
{%- endfor %}

{% endtest %}


{#- The test kinds a folded test evaluates: row kinds by their failing-row condition in one scan, grain
    kinds by their own SQL. expression_is_true is folded only when tagged (model_tests_folded_tag): the
    selector cannot tell a foldable expression from its name. -#}
{% macro model_tests_folded_kinds() %}
{{ return({
    'row': ['not_null', 'accepted_values', 'accepted_range', 'expression_is_true'],
    'grain': ['unique', 'unique_combination_of_columns', 'unique_combination_of_columns_hashed',
              'unique_touched_since_last_check', 'unique_combination_touched_since_last_check'],
}) }}
{% endmacro %}


{#- The tag that folds an expression_is_true test (the nightly selector excludes tests with it). -#}
{% macro model_tests_folded_tag() %}
{{ return('nightly_folded') }}
{% endmacro %}


{#- The graph's test nodes folded into the model_tests_folded test of `model` (a relation): see
    model_tests_folded above. Each member: name, kind, kwargs, where (its where config, or none). -#}
{% macro model_tests_folded_members(model) %}
{%- set kinds = model_tests_folded_kinds() -%}
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
    {%- set kind = node.test_metadata.name if node.resource_type == 'test' and node.test_metadata else none -%}
    {%- if kind
          and (kind in kinds['row'] + kinds['grain'])
          and (kind != 'expression_is_true' or model_tests_folded_tag() in node.tags)
          and (node.config.severity | lower) == 'error'
          and 'full_history' not in node.tags
          and node.depends_on.nodes | length == 1
          and node.depends_on.nodes[0] in parent_ids -%}
        {%- do members.append({'name': node.name, 'kind': kind, 'kwargs': node.test_metadata.kwargs,
                               'where': node.config.where}) -%}
    {%- endif -%}
{%- endfor -%}
{{ return(members) }}
{% endmacro %}


{#- A member's text argument (an expression, a where config) as its own test would see it: rendered, so
    macros in it expand. A ref() or source() cannot be rendered here (this test depends on the model
    only), so such a member is refused with a clear error rather than folded. -#}
{% macro model_tests_folded_render(member, text) %}
{%- if 'ref(' in text or 'source(' in text -%}
    {{ exceptions.raise_compiler_error("model_tests_folded cannot fold " ~ member.name ~ ": its expression or where config reads another relation (ref/source); remove the " ~ model_tests_folded_tag() ~ " tag") }}
{%- endif -%}
{{ return(render(text)) }}
{% endmacro %}


{#- The failing-row condition of one row member: the same rows its own test returns (dbt's not_null and
    accepted_values, this project's accepted_range_failing and expression_is_true), within its where
    config when it has one. -#}
{% macro model_tests_folded_condition(member) %}
{%- set kw = member.kwargs -%}
{%- set column = kw.column_name -%}
{%- if member.where %}(({{ model_tests_folded_render(member, member.where) }}) and {% endif -%}
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
{%- elif member.kind == 'expression_is_true' -%}
    (not ({{ model_tests_folded_render(member, kw.expression) | trim }}))
{%- else -%}
    {{ exceptions.raise_compiler_error("model_tests_folded cannot fold a " ~ member.kind ~ " test by its condition") }}
{%- endif -%}
{%- if member.where %}){% endif -%}
{% endmacro %}


{#- The SQL of one grain member: its own test macro (one definition), over the model or, with a where
    config, the same subquery dbt's get_where_subquery gives the test on its own. -#}
{% macro model_tests_folded_own_sql(member, model) %}
{%- set kw = member.kwargs -%}
{%- set relation = model -%}
{%- if member.where -%}
    {%- set relation = "(select * from " ~ model ~ " where " ~ model_tests_folded_render(member, member.where) ~ ") dbt_subquery" -%}
{%- endif -%}
{%- if member.kind == 'unique' -%}
    {{ test_unique(relation, kw.column_name) }}
{%- elif member.kind == 'unique_combination_of_columns' -%}
    {{ test_unique_combination_of_columns(relation, kw.combination_of_columns) }}
{%- elif member.kind == 'unique_combination_of_columns_hashed' -%}
    {{ test_unique_combination_of_columns_hashed(relation, kw.combination_of_columns, kw.get('watermark_column'), kw.get('scope_columns')) }}
{%- elif member.kind == 'unique_touched_since_last_check' -%}
    {{ test_unique_touched_since_last_check(relation, kw.column_name, kw.watermark_column) }}
{%- elif member.kind == 'unique_combination_touched_since_last_check' -%}
    {{ test_unique_combination_touched_since_last_check(relation, kw.combination_of_columns, kw.watermark_column, kw.get('scope_columns')) }}
{%- else -%}
    {{ exceptions.raise_compiler_error("model_tests_folded cannot fold a " ~ member.kind ~ " test by its own SQL") }}
{%- endif -%}
{% endmacro %}
