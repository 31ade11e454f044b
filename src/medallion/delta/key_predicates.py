"""SQL predicates that select rows by their key values, for writes that replace only those keys.

A write that touches a few keys of a big table (an SCD2 batch, a gold refresh by key) names the
keys as literals: `replaceWhere` takes the predicate as SQL text, and a literal `IN` list lets
Spark filter files and rows while reading instead of joining with the keys.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql.types import DataType

__all__ = ["MAX_LITERAL_KEYS", "BatchKeys", "key_predicate", "keys_predicate", "literal_renderer"]

# Up to this many keys of a batch are named as literals (a filter, a replaceWhere); above, a join
# and a MERGE cost less than planning a predicate that long.
MAX_LITERAL_KEYS = 2000


def literal_renderer(data_type: DataType) -> Callable[[Any], str] | None:
    """A function writing a Python value of `data_type` as a Spark SQL literal (None if unsupported)."""
    name = data_type.typeName()
    if name == "string":
        return lambda v: "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"
    if name == "date":
        return lambda v: f"DATE'{v.isoformat()}'"
    if name in ("timestamp", "timestamp_ntz"):
        return lambda v: f"TIMESTAMP'{v.isoformat(sep=' ')}'"
    if name in ("integer", "long", "short", "byte"):
        return lambda v: str(int(v))
    if name == "decimal":
        return lambda v: f"{decimal.Decimal(v)}BD"
    if name == "boolean":
        return lambda v: "TRUE" if v else "FALSE"
    return None


def key_predicate(column: str, keys: list[Any], key_type: DataType, qualifier: str = "") -> str:
    """`col IN (...)` for one key column, NULL-safe; FALSE when there are no keys.
    `qualifier` names the table alias (`t` -> t.`col`), as a MERGE condition needs."""
    render = literal_renderer(key_type)
    if render is None:
        raise ValueError(f"no SQL literal for type {key_type.simpleString()}")
    name = _column(column, qualifier)
    values = [render(k) for k in keys if k is not None]
    parts = [f"{name} IN ({', '.join(values)})"] if values else []
    if any(k is None for k in keys):
        parts.append(f"{name} IS NULL")
    return " OR ".join(parts) or "FALSE"


def keys_predicate(
    columns: Sequence[str], keys: list[tuple], types: Sequence[DataType], qualifier: str = ""
) -> str | None:
    """`(a, b) IN ((1, 'x'), ...)` for key tuples without NULLs; None when a type has no literal."""
    renders = [literal_renderer(t) for t in types]
    if any(r is None for r in renders):
        return None
    if len(columns) == 1:
        return key_predicate(columns[0], [k[0] for k in keys], types[0], qualifier)
    if not keys:
        return "FALSE"
    tuples = ", ".join("(" + ", ".join(r(v) for r, v in zip(renders, key, strict=True)) + ")" for key in keys)
    return "(" + ", ".join(_column(c, qualifier) for c in columns) + f") IN ({tuples})"


def _column(name: str, qualifier: str) -> str:
    return f"{qualifier}.`{name}`" if qualifier else f"`{name}`"


@dataclass
class BatchKeys:
    """The distinct keys of a batch: SQL literals when few (reads filter on them, Delta skips files
    by their statistics), otherwise a cached frame to semi-join with."""

    columns: tuple[str, ...]
    predicate: str | None = None
    frame: DataFrame | None = None
    values: list[tuple] | None = None  # the literals, when named
    types: tuple[DataType, ...] = ()

    @classmethod
    def from_batch(
        cls, batch: DataFrame, columns: Sequence[str], *, literals_only: bool = False
    ) -> BatchKeys:
        """`literals_only`: a caller that only uses the literals (`qualified`) gets no cached key frame
        when the keys are too many to name."""
        distinct = batch.select(*columns).distinct()
        types = tuple(batch.schema[c].dataType for c in columns)
        found = [tuple(row) for row in distinct.limit(MAX_LITERAL_KEYS + 1).collect()]
        if len(found) <= MAX_LITERAL_KEYS:
            predicate = keys_predicate(columns, found, types)
            if predicate is not None:
                return cls(tuple(columns), predicate=predicate, values=found, types=types)
        if literals_only:
            return cls(tuple(columns), types=types)
        return cls(tuple(columns), frame=distinct.persist(), types=types)

    def qualified(self, alias: str) -> str | None:
        """The literal predicate on the columns of table alias `alias` (a MERGE condition's target)."""
        if self.values is None:
            return None
        return keys_predicate(self.columns, self.values, self.types, alias)

    def rows_of(self, frame: DataFrame) -> DataFrame:
        """The rows of `frame` with one of these keys."""
        if self.predicate is not None:
            return frame.filter(self.predicate)
        return frame.join(self.frame, list(self.columns), "left_semi")

    def release(self) -> None:
        if self.frame is not None:
            self.frame.unpersist()
