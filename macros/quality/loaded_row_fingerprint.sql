{#- One landed event's content fingerprint, summed per load by int_load_ledger_mismatches and compared
    with raw.load_ledger.loaded_fingerprint, which landing computed from the same rows
    (orchestration/lib/contract.py LOADED_ROW_FINGERPRINT_SQL: keep the two identical, columns and
    order included; tests/integration/test_hostile_landing.py checks they agree).
    DuckDB only: other engines render values as text differently, so their ledger rows carry no
    fingerprint and the default variant returns null (the check falls back to row counts). -#}
{% macro loaded_row_fingerprint() -%}
    {{ return(adapter.dispatch('loaded_row_fingerprint', 'command_center')()) }}
{%- endmacro %}

{% macro default__loaded_row_fingerprint() -%}
    cast(null as decimal(38, 0))
{%- endmacro %}

{% macro duckdb__loaded_row_fingerprint() -%}
    {%- set columns = ['event_id', 'workflow_id', 'run_id', 'event_type', 'event_ts', 'region', 'stage', 'status',
                       'owner', 'duration_ms', 'cost_cents', 'confidence', 'exception_id', 'exception_class',
                       'severity', 'actor', 'attempt', 'error_code', 'attributes', 'log_format',
                       'source_event_name', 'source_row_number'] -%}
    ('0x' || left(md5(concat_ws(chr(31), {% for c in columns %}coalesce(cast({{ c }} as varchar), chr(0)){% if not loop.last %}, {% endif %}{% endfor %})), 15))::bigint::hugeint
{%- endmacro %}
