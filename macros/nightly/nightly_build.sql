{#- The nightly build: `dbt build --selector nightly` (selectors.yml), what the daily Dagster job and the
    benchmark's incremental step run. It leaves out the unit tests (CI runs them) and the data tests
    tagged full_history (the weekly full check runs them, selector weekly_full_checks); each of those
    has a companion that checks the rows touched since the last passing check, so a violation in new
    data still fails the night it lands, and one in old data (changed outside landing) the next
    weekly full check. Doc: docs/benchmarks.md, "The nightly build".

    The watermark: after a build or test invocation that checked everything it was meant to check
    (the nightly selector, the weekly_full_checks selector, or a plain `dbt build` / `dbt test` with
    no selection) and in which nothing failed, errored or was skipped, on-run-end records the landing
    high-water mark that build processed (int_build_state.loaded_through) in
    intermediate.build_checked_through. A companion test looks at the rows whose watermark column
    (a row's loaded_at, a summary's max_loaded_at) is later than the last recorded mark: everything
    landed since the last passing check, so a failed night's rows are checked again the next night. -#}


{#- True in the nightly build (the invocation's --selector is nightly). Read at run time, so the same
    manifest serves the nightly and the full builds (partial parse is not invalidated). -#}
{% macro is_nightly_build() -%}
    {#- (invocation_args_dict is undefined only outside dbt, e.g. in sqlfluff's templater) -#}
    {%- set args = invocation_args_dict if invocation_args_dict is defined else {} -%}
    {{ return(args.get('selector') == 'nightly') }}
{%- endmacro %}


{% macro checked_watermark_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='intermediate', identifier='build_checked_through')) }}
{%- endmacro %}


{#- on-run-start: the watermark table exists (the companion tests read it). Returns '' (nothing more to run). -#}
{% macro create_checked_watermark() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set relation = checked_watermark_relation() -%}
    {%- do adapter.create_schema(relation) -%}
    {%- do run_query(
        "create table if not exists " ~ relation ~ " (checked_through timestamp, recorded_at timestamp, "
        ~ "invocation_id varchar, selection varchar)"
    ) -%}
    {{ return('') }}
{%- endmacro %}


{#- The name of what this invocation checked, or none when it is a partial selection (its passing says
    nothing about the rest, so it records no watermark). -#}
{% macro checked_selection_name() -%}
    {%- set args = invocation_args_dict -%}
    {%- if args.get('which') not in ('build', 'test') -%}{{ return(none) }}{%- endif -%}
    {%- if args.get('selector') in ('nightly', 'weekly_full_checks') -%}{{ return(args.get('selector')) }}{%- endif -%}
    {%- if args.get('selector') or args.get('select') or args.get('exclude') or args.get('resource_types')
        or args.get('exclude_resource_types') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('everything') }}
{%- endmacro %}


{#- on-run-end: record the high-water mark this build processed when every node passed. -#}
{% macro record_checked_watermark(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set selection = checked_selection_name() -%}
    {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'skipped', 'runtime error']) | list -%}
    {%- set build_state = adapter.get_relation(database=target.database, schema='intermediate', identifier='int_build_state') -%}
    {%- if selection is none or failed or build_state is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- do run_query(
        "insert into " ~ checked_watermark_relation() ~ " select loaded_through, "
        ~ dbt.current_timestamp() ~ ", '" ~ invocation_id ~ "', '" ~ selection ~ "' from " ~ build_state
        ~ " where loaded_through is not null"
    ) -%}
    {%- do log("record_checked_watermark: " ~ selection ~ " passed; rows landed after its high-water mark are the next nightly check's", info=false) -%}
    {{ return('') }}
{%- endmacro %}


{#- SQL condition: the row was touched since the last passing check (its watermark column is later than
    the last recorded mark, or there is no mark yet: then every row). -#}
{% macro touched_since_last_check(watermark_column) -%}
(
    {{ watermark_column }} is null
    or {{ watermark_column }} > (
        select coalesce(max(checked_through), cast('1900-01-01 00:00:00' as timestamp))
        from {{ checked_watermark_relation() }}
    )
)
{%- endmacro %}
