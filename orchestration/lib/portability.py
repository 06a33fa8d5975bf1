"""Is this compiled SQL something Snowflake can run? The portability check of the dbt project.

fakesnow executes Snowflake SQL on DuckDB and so tolerates DuckDB-only functions (quantile_cont,
date_diff, list_*, json_extract_string, epoch, ...): a build against it proves the models run, not
that Snowflake would accept them. This module reads the SQL dbt compiled for ``--target snowflake``
and reports

* SQL that sqlglot's Snowflake dialect cannot parse (DuckDB-only syntax: ``struct_pack(a := 1)``,
  list literals, ``->>``...);
* every function called that is not on ``SNOWFLAKE_FUNCTIONS``, the reviewed allow-list below. The
  name is taken as written (tokens), not as sqlglot normalises it: sqlglot parses DuckDB's
  ``date_diff(...)`` into the same node as Snowflake's ``datediff(...)``, but Snowflake rejects the
  former. Functions sqlglot does not know at all (``exp.Anonymous``) are checked the same way.

Everything engine-specific belongs in an ``adapter.dispatch`` macro under macros/cross_db/ (see
macros/_macros.yml). Adding a name to the allow-list is a review decision: check it in the Snowflake
SQL function reference first (https://docs.snowflake.com/en/sql-reference-functions).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Snowflake built-in functions this project may call, each checked against the Snowflake function
#: reference. Grouped by kind; keep it sorted within a group.
SNOWFLAKE_FUNCTIONS: frozenset[str] = frozenset(
    {
        # aggregates and window functions
        "any_value", "array_agg", "avg", "count", "count_if", "dense_rank", "first_value", "lag", "last_value",
        "lead", "listagg", "max", "median", "min", "min_by", "percentile_cont", "percentile_disc", "rank", "row_number",
        "stddev", "sum", "variance",
        # conditional and null handling
        "coalesce", "decode", "div0", "greatest", "iff", "ifnull", "least", "nullif", "nvl", "zeroifnull",
        # numeric
        "abs", "ceil", "exp", "floor", "ln", "mod", "power", "round", "sqrt", "trunc",
        # text
        # HASH(expr, ...): Snowflake's signed 64-bit hash of one or more values (the grain tests'
        # unique_combination_of_columns_hashed groups by it, then checks repeated hashes exactly, so the engines'
        # different hash values never change a verdict)
        "hash",
        "chr", "concat", "left", "length", "lower", "lpad", "ltrim", "md5", "position", "regexp_like", "regexp_replace",
        "regexp_substr", "replace", "right", "rtrim", "sha2", "split_part", "startswith", "substr", "substring",
        "trim", "upper",
        # conversion
        "cast", "to_char", "to_date", "to_double", "to_number", "to_timestamp", "to_timestamp_ntz", "to_varchar",
        "try_cast", "try_to_date", "try_to_number", "try_to_timestamp",
        # date and time
        "convert_timezone", "current_date", "current_timestamp", "date_part", "date_trunc", "dateadd", "datediff",
        "dayofweekiso", "extract", "last_day", "timestampadd", "timestampdiff",
        # semi-structured data
        "array_construct", "array_generate_range", "array_size", "flatten", "get", "get_path",
        "json_extract_path_text", "object_construct", "object_delete", "parse_json", "try_parse_json", "typeof",
        # context
        "current_database", "current_role", "current_schema", "is_role_in_session",
    }
)

#: Words that precede a parenthesis without being a function call.
_SYNTAX_WORDS = frozenset(
    {
        "and", "any", "all", "as", "between", "by", "case", "check", "else", "except", "exists", "filter", "from",
        "group", "having", "in", "intersect", "into", "is", "join", "key", "like", "not", "on", "or", "over",
        "partition", "primary", "references", "select", "set", "some", "table", "then", "union", "unique", "using",
        "values", "when", "where", "with", "within",
    }
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class Finding:
    """One problem in one compiled file."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _dialect():
    from sqlglot.dialects.snowflake import Snowflake

    return Snowflake()


def function_calls(sql: str) -> list[str]:
    """The names of the functions ``sql`` calls, lower case, as written, in order of appearance.

    A name directly followed by '(' is a call unless it is syntax (``in (``, ``over (``), a type
    or an alias with a column list (after AS: ``cast(x as number(38, 0))``, ``as t (x)``), or a type
    after '::'. Schema-qualified user functions (``a.f(``) are not built-ins and are skipped."""
    from sqlglot.tokens import TokenType

    tokens = _dialect().tokenize(sql)
    names = []
    for i, token in enumerate(tokens[:-1]):
        if tokens[i + 1].token_type != TokenType.L_PAREN or not _NAME.match(token.text):
            continue
        if token.token_type in (TokenType.STRING, TokenType.NUMBER, TokenType.IDENTIFIER):
            continue
        previous = tokens[i - 1].token_type if i else None
        if previous in (TokenType.ALIAS, TokenType.DCOLON, TokenType.DOT):
            continue
        name = token.text.lower()
        if name in _SYNTAX_WORDS:
            continue
        names.append(name)
    return names


def check_sql(sql: str, *, path: str = "<sql>", allowed: Iterable[str] = SNOWFLAKE_FUNCTIONS) -> list[Finding]:
    """Findings for one compiled statement: unparseable as Snowflake, or calling a function that is
    not on the allow-list (as written, and sqlglot's unknown functions)."""
    import sqlglot
    from sqlglot import exp

    allowed = {a.lower() for a in allowed}
    findings: list[Finding] = []
    try:
        trees = sqlglot.parse(sql, read="snowflake")
    except sqlglot.errors.ParseError as err:
        first = str(err).splitlines()[0]
        return [Finding(path, f"not valid Snowflake SQL (sqlglot): {first}")]
    unknown = set()
    for tree in trees:
        if tree is None:
            continue
        for node in tree.find_all(exp.Anonymous):
            if str(node.name).lower() not in allowed:
                unknown.add(str(node.name).lower())
    unknown |= {name for name in function_calls(sql) if name not in allowed}
    findings += [Finding(path, f"calls {name}(), which is not a Snowflake function on the allow-list "
                         "(orchestration/lib/portability.py); move it into a macros/cross_db/ dispatch macro")
                 for name in sorted(unknown)]
    findings += [Finding(path, problem) for tree in trees if tree is not None for problem in _subquery_placement(tree)]
    return findings


def _subquery_placement(tree) -> list[str]:
    """Where Snowflake refuses a subquery operator (SQL reference, "Subquery operators"): an ANY / ALL
    subquery is supported only in a WHERE clause and cannot be an argument of OR, and ``[NOT] IN (query)``
    is shorthand for ``= ANY`` / ``!= ALL`` with the same restrictions. DuckDB (and fakesnow, which runs on
    it) accepts both, so only this check catches them. Each such operator is walked up to the statement
    or subquery it belongs to; an OR or the absence of a WHERE on the way is a finding."""
    from sqlglot import exp

    problems = []
    for node in tree.find_all(exp.In, exp.Any, exp.All):
        if isinstance(node, exp.In) and not node.args.get("query"):
            continue  # IN (value list) has no such restriction
        under_or = in_where = False
        parent = node.parent
        while parent is not None and not isinstance(parent, (exp.Query, exp.Delete, exp.Update, exp.Merge)):
            under_or = under_or or isinstance(parent, exp.Or)
            in_where = in_where or isinstance(parent, exp.Where)
            parent = parent.parent
        if under_or or not in_where:
            where = "as an argument of OR" if under_or else "outside a WHERE clause"
            text = " ".join(node.sql(dialect="snowflake").split())
            problems.append(
                f"a subquery IN / ANY / ALL {where}, which Snowflake does not support: {text[:120]}; "
                "use matches_query_row (macros/cross_db/matches_query_row.sql) or a union"
            )
    return problems


def check_compiled_dir(compiled: Path | str) -> tuple[int, list[Finding]]:
    """Check every ``*.sql`` under a dbt ``target/compiled`` folder: (files checked, findings)."""
    compiled = Path(compiled)
    files = sorted(compiled.rglob("*.sql"))
    findings: list[Finding] = []
    for path in files:
        findings += check_sql(path.read_text(), path=str(path.relative_to(compiled)))
    return len(files), findings


#: Statements dbt-snowflake itself sends around the project's SQL (metadata, sessions, transactions): not
#: the project's SQL, and partly outside sqlglot's grammar (``show terse objects``).
_ADAPTER_STATEMENTS = re.compile(
    r"^\s*(?:/\*.*?\*/\s*)?(?:show|describe|desc|use|begin|commit|rollback|alter\s+session|list|select\s+current_)\b",
    re.IGNORECASE | re.DOTALL,
)


def check_executed_sql(statements: Iterable[tuple[str, str]]) -> tuple[int, list[Finding]]:
    """Check the statements dbt executed (``(node unique_id, sql)``, e.g. the SQLQuery events of dbt's JSON
    debug log): the compiled folder holds only model and test bodies, while the pre/post hooks, the
    incremental delete+insert / merge statements and the on-run hooks are rendered at run time.
    (statements checked, findings); dbt-snowflake's own metadata statements are skipped."""
    checked, findings = 0, []
    for index, (node, sql) in enumerate(statements):
        if not sql.strip() or _ADAPTER_STATEMENTS.match(sql):
            continue
        checked += 1
        findings += check_sql(sql, path=f"{node or 'statement'} (executed statement {index})")
    return checked, findings
