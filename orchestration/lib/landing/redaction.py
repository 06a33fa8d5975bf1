"""Redaction of the register's data_controls.redaction.fields in landed and quarantined rows.

Everything here builds SQL that DuckDB runs on whole columns (no Python touches rows):

* ``redacted_json_sql``: a JSON text with every member whose key is a redacted field (case-insensitive,
  any nesting depth, inside arrays, keys written with ``\\u`` escapes) replaced by
  ``"sha256:" + hex(sha256(salt || value))``. A string value that itself holds JSON text (attributes
  in a CSV/Parquet column, or as a JSON Lines string) is redacted inside, one level deep; deeper JSON
  text that names a redacted key is hashed whole. Only rows whose text mentions a redacted key name
  (case-insensitively) or a ``\\u`` escape take the deep walk; every other row passes unchanged.
* ``redacted_column_sql``: the contract columns a register may name (actor, owner), hashed.
* ``malformed_record_sql``: a record that could not be parsed cannot be redacted field by field; the
  register's ``data_controls.redaction.malformed_records`` policy says what of it is kept.
* ``check_redaction_salt``: the development salt is warned about, or refused (``require_secret_salt``).
"""
from __future__ import annotations

from orchestration.lib.landing.common import sql_literal
from orchestration.lib.register import Register, redactable_contract_columns
from orchestration.settings import DEV_REDACTION_SALT

#: One token of minified JSON: a string (with its escapes), one structural character, or a scalar.
_TOKEN = r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^"{}\[\]:,]+'
#: How much of a malformed record the default policy keeps, before masking.
MALFORMED_PREFIX_CHARS = 64

_DEPTH_DELTA = "(case when t in ('{', '[') then 1 when t in ('}', ']') then -1 else 0 end)"


def _hashed_literal(value_sql: str) -> str:
    """A JSON string literal holding the salted hash of ``value_sql`` (hex digits: nothing to escape)."""
    return f"""('"sha256:' || sha256($salt || {value_sql}) || '"')"""


def _names_regex(fields: list[str]) -> str:
    # field names are identifiers (register validation), so they are regex-safe as written
    return "(?i)" + "|".join(f.lower() for f in fields)


def _fold_sql(json_text: str, fields: list[str], level: int) -> str:
    """Redact a valid JSON text: a left fold over its tokens (a small state machine), in SQL.

    State: o = output so far; d = nesting depth; k = 1 after a redacted key, 2 after its ':';
    rd >= 0 while inside an object/array that is the value of a redacted key (its depth), b = its text.
    """
    keys = ", ".join(sql_literal('"' + f.lower() + '"') for f in fields)
    unquoted = "json_extract_string(t, '$')"
    if level == 0:
        inner = f"to_json({_fold_sql(unquoted, fields, level + 1)})::varchar"
    else:
        inner = _hashed_literal(unquoted)
    # a string value holding JSON text (an object or array) that mentions a redacted key
    string_value = (
        f"case when regexp_matches(t, {sql_literal(_names_regex(fields) + '|' + chr(92) * 2 + 'u')}) "
        f"and json_valid({unquoted}) and regexp_matches({unquoted}, '^\\s*[\\[{{]') then {inner} else t end"
    )

    def state(o: str, d: str, rd: str = "-1", b: str = "''", k: str = "0") -> str:
        return f"{{'o': {o}, 'd': {d}, 'rd': {rd}, 'b': {b}, 'k': {k}}}"

    return f"""(list_reduce(regexp_extract_all(json({json_text})::varchar, {sql_literal(_TOKEN)}),
        lambda s, t: case
            when s.rd >= 0 then (case when s.d + {_DEPTH_DELTA} = s.rd
                then {state(f"s.o || {_hashed_literal('s.b || t')}", 's.rd')}
                else {state('s.o', f's.d + {_DEPTH_DELTA}', 's.rd', 's.b || t')} end)
            when s.k = 2 then (case
                when t in ('{{', '[') then {state('s.o', 's.d + 1', 's.d', 't')}
                when t = 'null' then {state('s.o || t', 's.d')}
                else {state(f"s.o || {_hashed_literal(unquoted)}", 's.d')} end)
            when s.k = 1 and t = ':' then {state('s.o || t', 's.d', k='2')}
            when left(t, 1) = '"' then (case when lower(t) in ({keys}) then {state('s.o || t', 's.d', k='1')}
                else {state(f's.o || ({string_value})', 's.d')} end)
            else {state('s.o || t', f's.d + {_DEPTH_DELTA}')}
        end,
        {state("''", '0')}).o)"""


def _pair_regex(fields: list[str]) -> str:
    """A redacted key (its exact name, any case) and its scalar value, as written in JSON text.

    In valid JSON such a match can only start at a real key: inside a string its quotes would be
    escaped (a key whose own text ends in an escaped quote and a redacted name, '"x\\"customer_email"',
    is over-redacted, which is safe). Values that are objects or arrays, keys written with escapes and
    JSON text inside strings are left to the full walk (see _needs_full_walk_regex)."""
    names = "|".join(f.lower() for f in fields)
    return r'"(?i:' + names + r')"\s*:\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false)'


def _needs_full_walk_regex(fields: list[str]) -> str:
    """Text the direct replacement cannot handle: a \\u escape anywhere (a key may be spelled with
    one), an escaped quote before a redacted name (JSON text inside a string), or an object or array
    as the value of a redacted key."""
    names = "|".join(f.lower() for f in fields)
    return r'(?i)\\u|\\"(?:' + names + r')|"(?:' + names + r')"\s*:\s*[\[{]'


def _direct_sql(text: str, fields: list[str]) -> str:
    """Replace each redacted key's scalar value by its salted hash, in place (the text is otherwise
    unchanged). Linear in the text: the pieces between matches, zipped with the matches.

    The pieces are joined with ``list_aggr(..., 'string_agg', '')``, not ``array_to_string``: that macro
    names its list twice (``case when len(l) = 0 ...``), so the whole list was built twice per row. The
    list is never empty here (a split yields at least one piece), so the result is the same."""
    pair = sql_literal(_pair_regex(fields))
    value = "json_extract_string(regexp_extract(z[2], ':\\s*(.*)$', 1), '$')"
    hashed = f"regexp_replace(z[2], ':\\s*(.*)$', '') || ':' || {_hashed_literal(value)}"
    return (
        f"list_aggr(list_transform(list_zip(regexp_split_to_array({text}, {pair}), "
        f"regexp_extract_all({text}, {pair})), lambda z: z[1] || coalesce({hashed}, '')), 'string_agg', '')"
    )


#: Above this many characters, text that needs the full token walk (whose cost grows with the square
#: of its length) is replaced whole by {"redacted": "sha256:..."}: one hostile row cannot stall a landing.
FULL_WALK_MAX_CHARS = 16_384


def redacted_json_sql(expr: str, fields: list[str]) -> str:
    """``expr`` (valid JSON text, or null) with every redacted field hashed, as VARCHAR.

    Text that mentions no redacted key name (case-insensitively) and no \\u escape is returned
    unchanged (the pre-filter: most rows stop here). Text with escapes is decoded first (``json()``,
    minified): if that shows no redacted key either, the original text is kept. Then, when every
    redacted key holds a scalar, each such value is replaced by its salted hash in place (linear);
    otherwise (an object or array under a redacted key, JSON text inside a string) the full token walk
    rewrites it minified, or, above FULL_WALK_MAX_CHARS, the whole text is hashed. A JSON null stays
    null."""
    if not fields:
        return f"({expr})::varchar"
    text = f"({expr})::varchar"
    escapes = sql_literal(_names_regex(fields) + "|" + chr(92) * 2 + "u")
    full_walk = sql_literal(_needs_full_walk_regex(fields))
    canonical = f"json({text})::varchar"

    def scalar_or_walk(t: str) -> str:
        return (
            f"case when not regexp_matches({t}, {full_walk}) then {_direct_sql(t, fields)} "
            f"when length({t}) <= {FULL_WALK_MAX_CHARS} then {_fold_sql(t, fields, 0)} "
            f"else '{{\"redacted\":' || {_hashed_literal(t)} || '}}' end"
        )

    return (
        f"(case when {text} is null then null "
        f"when not regexp_matches({text}, {escapes}) then {text} "
        f"when strpos({text}, '\\u') = 0 then ({scalar_or_walk(text)}) "
        # escapes: decide on the decoded text (keys spelled with \u escapes are plain there)
        f"when not regexp_matches({canonical}, {escapes}) then {text} "
        f"else ({scalar_or_walk(canonical)}) end)"
    )


def redacted_column_sql(column: str, fields: list[str]) -> str:
    """A contract column (text), hashed when the register names it (actor, owner).

    The actor ``system`` (any case) is not a person and stays in clear, so is_human_actor still tells
    people from the system; every other value becomes 'sha256:' || sha256(salt || value), so distinct
    counts and joins on the column still work."""
    if column not in redactable_contract_columns(fields):
        return column
    hashed = f"'sha256:' || sha256($salt || {column})"
    if column == "actor":
        return f"(case when {column} is null or lower(trim({column})) = 'system' then {column} else {hashed} end)"
    return f"(case when {column} is null then null else {hashed} end)"


def malformed_record_sql(expr: str, fields: list[str], policy: str, *, prefix_allowed: bool = True) -> str:
    """What raw.quarantine.raw_record keeps of a record that could not be parsed.

    ``full_text``: the text as read. ``hash_only``: its length and salted sha256 (so a copy of the
    file can be matched to the row). ``hash_and_prefix`` (default): the same plus its first
    MALFORMED_PREFIX_CHARS characters, cut at the first redacted key name or ``\\u`` escape (what
    follows is ``<redacted>``); with ``prefix_allowed`` false (a CSV file whose header names a
    redacted column: its values carry no key to cut at) as ``hash_only``."""
    if policy == "full_text" or (not fields and policy != "hash_only"):
        return expr
    digest = f"'<malformed record: ' || length({expr}) || ' characters, sha256:' || sha256($salt || {expr})"
    if policy == "hash_only" or not prefix_allowed:
        return f"({digest} || '>')"
    cut = sql_literal("(?is)(" + "|".join(f.lower() for f in fields) + "|" + chr(92) * 2 + "u).*$")
    prefix = f"regexp_replace(left({expr}, {MALFORMED_PREFIX_CHARS}), {cut}, '\\1<redacted>')"
    return f"({digest} || '; begins: ' || {prefix} || '>')"


class RedactionSaltError(Exception):
    """Landing is refused: the register requires a secret salt and none is set."""


SALT_ENV_VAR = "COMMAND_CENTER_REDACTION_SALT"
DEV_SALT_WARNING = (
    f"warning: landing with the development redaction salt ({SALT_ENV_VAR} is not set): salted hashes of "
    "e-mail addresses or account numbers can be reversed by anyone who knows it. Set a secret salt "
    f"before landing real data (data_controls.redaction.require_secret_salt: true refuses to land without one)."
)


def check_redaction_salt(register: Register, salt: str, dbt_target: str) -> str | None:
    """The salt policy of a landing: None when the salt is a secret one; the warning to print when it
    is the development default; RedactionSaltError when the register requires a secret salt
    (``data_controls.redaction.require_secret_salt``; unset: required on the snowflake target)."""
    if salt != DEV_REDACTION_SALT:
        return None
    if register.data_controls.redaction.requires_secret_salt(dbt_target):
        raise RedactionSaltError(
            f"{SALT_ENV_VAR} is not set, and the register requires a secret redaction salt "
            f"(data_controls.redaction.require_secret_salt{' defaults to true on the ' + dbt_target + ' target' if register.data_controls.redaction.require_secret_salt is None else ': true'}); "
            f"set {SALT_ENV_VAR} to a long random secret, and keep it stable (a new salt changes every hash)"
        )
    return DEV_SALT_WARNING


def malformed_prefix_allowed(con, fields: list[str]) -> bool:
    """False when the file is a CSV whose header names a redacted column (case-insensitively): an
    unparseable CSV record carries that column's value with no key name to cut the prefix at.
    Reads the header from a parsed record of ``_cc_records`` (none parsed: not allowed)."""
    if not fields or not con.execute(
        "select count(*) from _cc_records where _problem like 'unreadable CSV record%'"
    ).fetchone()[0]:
        return True
    row = con.execute("select json_keys(_text) from _cc_records where _problem is null limit 1").fetchone()
    return row is not None and not {k.lower() for k in row[0]} & {f.lower() for f in fields}


def used_params(sql: str, params: dict) -> dict:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}
