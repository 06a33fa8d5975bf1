"""``fakesnow -s`` (fakesnow's Snowflake server, on DuckDB) with one shim, for tests/integration/test_snowflake.py.

dbt-snowflake's incremental materialization first creates the model's new rows as a session-temporary
relation under the model's qualified name, ``create or replace temporary view <db>.<schema>.<model>__dbt_tmp``
(or ``temporary table``), then deletes / inserts / merges from it. Snowflake accepts TEMPORARY views and
tables under a fully qualified name (CREATE VIEW / CREATE TABLE: ``[ { LOCAL | GLOBAL } TEMP | TEMPORARY ]``,
docs.snowflake.com/en/sql-reference/sql/create-view); DuckDB, under fakesnow, keeps temporary objects in its
``temp`` catalog only and refuses the statement ("TEMPORARY table names can *only* use the "temp" catalog").

The shim drops TEMPORARY from exactly those statements - a relation named ``*__dbt_tmp`` under a qualified
name - so fakesnow creates it as a permanent view / table in the model's schema (the next build replaces it).
Nothing else changes: every other statement reaches fakesnow as dbt sent it. Usage:
``python tests/integration/fakesnow_server.py -s -p PORT --host 127.0.0.1`` (fakesnow's own arguments).
"""
from __future__ import annotations

import sys

from fakesnow import cli
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

DBT_TMP_SUFFIX = "__dbt_tmp"
_transform = FakeSnowflakeCursor._transform


def _dbt_tmp_relation_made_permanent(self, expression: exp.Expr, params):
    if isinstance(expression, exp.Create) and expression.kind in ("VIEW", "TABLE"):
        table = expression.this if isinstance(expression.this, exp.Table) else expression.this.find(exp.Table)
        if table is not None and table.catalog and table.name.lower().endswith(DBT_TMP_SUFFIX):
            for temporary in list(expression.find_all(exp.TemporaryProperty)):
                temporary.pop()
    return _transform(self, expression, params)


FakeSnowflakeCursor._transform = _dbt_tmp_relation_made_permanent

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
