{#- Snowflake grants derived from the governance register (command_center.yml rbac.roles, landed as
    governance.rbac_role_permissions): every role holding the permission `read_metrics` (ops_viewer,
    ops_controller) may read the marts - usage on the database and the marts schema, select on each
    mart table this project builds. Nothing is ever granted on raw (events, quarantine, ledger),
    governance, staging or intermediate: those stay with the role that runs dbt.

    Meant as an on-run-end hook (`on-run-end: ["{{ grant_register_roles() }}"]`) or a
    run-operation after `dbt build` (`dbt run-operation grant_register_roles`). The roles must exist
    (created by an account administrator; docs/scale.md). A no-op on any adapter but Snowflake
    (DuckDB has no GRANT). dry_run: only log the statements (what the tests check, since fakesnow
    cannot execute GRANT). Returns '' so a hook has nothing more to run. -#}
{% macro grant_register_roles(permission='read_metrics', dry_run=false) -%}
    {{ return(adapter.dispatch('grant_register_roles', 'command_center')(permission, dry_run)) }}
{%- endmacro %}

{% macro default__grant_register_roles(permission, dry_run) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- do log("grant_register_roles: no grants on adapter " ~ adapter.type() ~ " (nothing to do)", info=true) -%}
    {{ return('') }}
{%- endmacro %}

{% macro snowflake__grant_register_roles(permission, dry_run) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set statements = command_center_grant_statements(permission) -%}
    {%- for statement in statements -%}
        {%- do log("grant_register_roles: " ~ statement ~ (" (dry run)" if dry_run else ""), info=true) -%}
        {%- if not dry_run -%}
            {%- do run_query(statement) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- The statements, in order: for each role with the permission (sorted), usage on the database and
    on every schema holding marts, then select on every mart (a model under models/marts/ that is
    not ephemeral). Roles come from governance.rbac_role_permissions, read with a bound literal. -#}
{% macro command_center_grant_statements(permission='read_metrics') -%}
    {%- set register_table = source('governance', 'rbac_role_permissions') -%}
    {%- set role_rows = run_query(
        "select distinct role from " ~ register_table ~ " where permission = '"
        ~ (permission | replace("'", "''")) ~ "' order by role"
    ) -%}
    {%- set roles = role_rows.columns[0].values() | list if role_rows is not none else [] -%}

    {%- set marts = [] -%}
    {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.fqn[1] == 'marts'
            and node.config.materialized != 'ephemeral' -%}
        {%- do marts.append(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) -%}
    {%- endfor -%}
    {%- set marts = marts | sort(attribute='identifier') -%}
    {%- set schemas = [] -%}
    {%- for relation in marts -%}
        {%- set schema = relation.database ~ '.' ~ relation.schema -%}
        {%- if schema not in schemas -%}{%- do schemas.append(schema) -%}{%- endif -%}
    {%- endfor -%}

    {%- set statements = [] -%}
    {%- for role in roles -%}
        {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', role) -%}
            {{ exceptions.raise_compiler_error("grant_register_roles: role " ~ role ~ " is not a plain Snowflake identifier") }}
        {%- endif -%}
        {%- do statements.append("grant usage on database " ~ target.database ~ " to role " ~ role) -%}
        {%- for schema in schemas -%}
            {%- do statements.append("grant usage on schema " ~ schema ~ " to role " ~ role) -%}
        {%- endfor -%}
        {%- for relation in marts -%}
            {%- do statements.append("grant select on table " ~ relation ~ " to role " ~ role) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}
