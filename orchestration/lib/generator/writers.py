"""Writers: a generated table as JSON Lines, CSV or Parquet (one function per format).

JSONL: one compact JSON object per line, keys in column order, null keys omitted, attributes nested;
CSV: header row, comma, RFC 4180 quoting only where needed (null -> empty, empty string -> ""),
attributes as JSON text; Parquet: typed columns, attributes as JSON text. UTF-8, '\\n' line ends.
Rows whose hidden raw column is set (defects rendered for this format) are written verbatim.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.lib.generator.common import FMT_METADATA_KEY, JSON_COLUMNS, RAW_COLUMN, check_format

_NEEDS_JSON_ESCAPE = r'["\\\x00-\x1f]'
_NEEDS_CSV_QUOTE = r'[",\r\n]|^$|^\s|\s$'
_CHUNK_ROWS = 200_000


def _is_text(typ: pa.DataType) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ)


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks() if table.num_rows else pa.array([], table.schema.field(name).type)


def _json_string_values(arr: pa.Array) -> pa.Array:
    """JSON string literals for a string array (null stays null)."""
    arr = arr.cast(pa.string())
    needs = pc.fill_null(pc.match_substring_regex(arr, _NEEDS_JSON_ESCAPE), False)
    simple = pc.binary_join_element_wise(pa.scalar('"'), arr, pa.scalar('"'), "")
    if not pc.any(needs).as_py():
        return simple
    escaped = [json.dumps(v, ensure_ascii=False) for v in arr.filter(needs).to_pylist()]
    return pc.replace_with_mask(simple, needs, pa.array(escaped, pa.string()))


def jsonl_lines(table: pa.Table) -> pa.Array:
    frags = []
    for name in table.column_names:
        col = _column(table, name)
        if name in JSON_COLUMNS and pa.types.is_string(col.type):
            val = col
        elif _is_text(col.type):
            val = _json_string_values(col)
        else:
            val = pc.cast(col, pa.string())
        frags.append(pc.binary_join_element_wise(pa.scalar(json.dumps(name) + ":"), val, ""))
    body = pc.binary_join_element_wise(*frags, ",", null_handling="skip") if frags else None
    return pc.binary_join_element_wise(pa.scalar("{"), pc.fill_null(body, ""), pa.scalar("}"), "")


def csv_lines(table: pa.Table) -> pa.Array:
    frags = []
    for name in table.column_names:
        col = _column(table, name)
        if _is_text(col.type):
            needs = pc.fill_null(pc.match_substring_regex(col, _NEEDS_CSV_QUOTE), False)
            quoted = pc.binary_join_element_wise(pa.scalar('"'), pc.replace_substring(col, '"', '""'),
                                                 pa.scalar('"'), "")
            val = pc.if_else(needs, quoted, col)
        else:
            val = pc.cast(col, pa.string())
        frags.append(pc.fill_null(val, ""))
    return pc.binary_join_element_wise(*frags, ",")


LINE_RENDERERS = {"jsonl": jsonl_lines, "csv": csv_lines}


def lines(table: pa.Table, fmt: str) -> pa.Array:
    """One text line (without terminator) per row."""
    if fmt not in LINE_RENDERERS:
        raise ValueError(f"no line serialisation for {fmt!r}")
    return LINE_RENDERERS[fmt](table.combine_chunks())


def serialize(table: pa.Table, fmt: str) -> list[str]:
    """Lines (without terminator) for a small table; used for raw defect rows."""
    return lines(table, fmt).to_pylist()


def csv_header(names: list[str]) -> str:
    return ",".join(f'"{n}"' if any(c in n for c in ',"\r\n') else n for n in names)


def _visible(table: pa.Table) -> pa.Table:
    hidden = [c for c in table.column_names if c.startswith("_")]
    return table.drop_columns(hidden).replace_schema_metadata(None)


def rows_for(table: pa.Table, fmt: str) -> tuple[pa.Table, pa.Array | None]:
    """Drop raw rows rendered for another format; return (visible table, raw column or None)."""
    if RAW_COLUMN not in table.column_names:
        return _visible(table), None
    raw = table.column(RAW_COLUMN)
    if raw.null_count == len(raw):
        return _visible(table), None
    meta = table.schema.metadata or {}
    if meta.get(FMT_METADATA_KEY, b"").decode() == fmt and fmt != "parquet":
        return _visible(table), raw.combine_chunks()
    keep = raw.is_null()
    return _visible(table.filter(keep)), None


def write_parquet(visible: pa.Table, raw: pa.Array | None, path: Path) -> int:
    pq.write_table(visible, path, compression="zstd", row_group_size=256 * 1024)
    return visible.num_rows


def write_text(visible: pa.Table, raw: pa.Array | None, path: Path, fmt: str) -> int:
    """JSONL or CSV in chunks, raw defect lines in place of their rows."""
    n = visible.num_rows
    with open(path, "wb") as fh:
        if fmt == "csv":
            fh.write((csv_header(visible.column_names) + "\n").encode("utf-8"))
        for lo in range(0, n, _CHUNK_ROWS):
            text = lines(visible.slice(lo, _CHUNK_ROWS), fmt)
            if raw is not None:
                text = pc.if_else(raw.slice(lo, _CHUNK_ROWS).is_valid(), raw.slice(lo, _CHUNK_ROWS), text)
            text = pc.binary_join_element_wise(text, pa.scalar("\n"), "")
            text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
            offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset: text.offset + len(text) + 1]
            fh.write(memoryview(text.buffers()[2])[offsets[0]: offsets[-1]])
    return n


def write_events(table: pa.Table, path: Path, fmt: str) -> int:
    """Write ``table`` (from generate_events or generate_minimal_log) to ``path``; returns rows written."""
    check_format(fmt)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    visible, raw = rows_for(table, fmt)
    if fmt == "parquet":
        return write_parquet(visible, raw, path)
    return write_text(visible, raw, path, fmt)
