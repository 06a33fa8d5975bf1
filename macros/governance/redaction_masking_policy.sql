{#- Optional, Snowflake only (masking policies need Enterprise edition): a second line of defence for
    the register's redacted fields (data_controls.redaction.fields, landed as
    governance.redaction_fields). Landing already replaces them by salted hashes wherever they occur
    (any depth, any key case, JSON text inside strings; actor and owner columns too: see
    docs/event-contract.md, Redaction); this masking policy also removes the listed top-level keys
    from raw.workflow_events.attributes for every role not listed in `unmasked_roles` (default: the
    role that runs dbt), so even those hashes stay with the engineers.

    Run on demand: `dbt run-operation apply_redaction_masking_policy --args '{dry_run: false}'`.
    Default dry_run: true (log the statements only). A no-op elsewhere. -#}
{% macro apply_redaction_masking_policy(unmasked_roles=none, dry_run=true) -%}
    {{ return(adapter.dispatch('apply_redaction_masking_policy', 'command_center')(unmasked_roles, dry_run)) }}
{%- endmacro %}

{% macro default__apply_redaction_masking_policy(unmasked_roles, dry_run) -%}
    {%- do log("apply_redaction_masking_policy: no masking policies on adapter " ~ adapter.type(), info=true) -%}
    {{ return('') }}
{%- endmacro %}

{% macro snowflake__apply_redaction_masking_policy(unmasked_roles, dry_run) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set field_rows = run_query("select field from " ~ source('governance', 'redaction_fields') ~ " order by field") -%}
    {%- set fields = field_rows.columns[0].values() | list -%}
    {%- set roles = unmasked_roles if unmasked_roles is not none else [target.role] -%}
    {%- set roles = roles | reject('none') | reject('equalto', '') | map('upper') | list -%}
    {%- set policy = target.database ~ '.governance.redacted_attributes' -%}
    {%- set events = source('raw', 'workflow_events') -%}
    {%- set masked -%}
        object_delete(val{% for field in fields %}, '{{ field }}'{% endfor %})
    {%- endset -%}
    {%- set statements = [
        "create masking policy if not exists " ~ policy ~ " as (val variant) returns variant -> "
        ~ "case when " ~ ("current_role() in ('" ~ (roles | join("', '")) ~ "')" if roles else "false")
        ~ " then val else " ~ (masked | trim) ~ " end",
        "alter table " ~ events ~ " modify column attributes set masking policy " ~ policy ~ " force",
    ] -%}
    {%- for statement in statements -%}
        {%- do log("apply_redaction_masking_policy: " ~ statement ~ (" (dry run)" if dry_run else ""), info=true) -%}
        {%- if not dry_run -%}{%- do run_query(statement) -%}{%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
