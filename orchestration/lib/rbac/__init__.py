"""RBAC at workflow and field level (issue 13, part 3; docs/rbac.md).

* :mod:`.policy` - what each register role may read (marts, rows by workflow scope, masked person fields);
* :mod:`.duckdb_views` - ``governed_<role>`` views in the published marts file (made at every publish)
  and per-role published files;
* :mod:`.snowflake` - the Snowflake SQL: roles, grants, a row access policy, masking policies;
* :mod:`.cli` - ``command-center rbac views | show | snowflake-sql``.
"""
