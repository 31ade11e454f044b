"""A few Python rows as a DataFrame built from literals, for the run records' small appends.

`spark.createDataFrame(rows)` in a classic session ships the rows to Python worker processes when
the frame is written: each of its tasks starts a worker, about a second per one-row append on two
cores (measured on `run_log`). Literals stay in the JVM: the same append takes a quarter of that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StructType

__all__ = ["literal_frame", "literal_value"]


def literal_frame(spark: SparkSession, rows: Sequence[Sequence[Any]], schema: str | StructType) -> DataFrame:
    """`rows` (tuples in the order of `schema`, a DDL string or a StructType) as a one-partition
    DataFrame with exactly that schema's names and types."""
    struct = schema if isinstance(schema, StructType) else DataType.fromDDL(schema)
    if not isinstance(struct, StructType):
        raise TypeError(f"a frame needs a struct schema, not {struct.simpleString()}")
    if not rows:
        return spark.range(0).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in struct.fields])
    # cast to the schema's own struct: the columns come out with its nullability, not the literals'
    values = F.array(*[literal_value(row, struct) for row in rows]).cast(ArrayType(struct))
    return spark.range(1, numPartitions=1).select(F.inline(values))


def literal_value(value: Any, kind: DataType) -> Column:
    """`value` as a literal column of type `kind`; structs from tuples or mappings, arrays from lists."""
    if value is None:
        return F.lit(None).cast(kind)
    if isinstance(kind, StructType):
        if isinstance(value, Mapping):
            value = [value.get(f.name) for f in kind.fields]
        if len(value) != len(kind.fields):
            raise ValueError(
                f"{len(value)} value(s) for the {len(kind.fields)} field(s) of {kind.simpleString()}"
            )
        return F.struct(
            *[literal_value(v, f.dataType).alias(f.name) for v, f in zip(value, kind.fields, strict=True)]
        )
    if isinstance(kind, ArrayType):
        return F.array(*[literal_value(v, kind.elementType) for v in value]).cast(kind)
    if isinstance(kind, MapType):
        pairs = [
            c
            for k, v in value.items()
            for c in (literal_value(k, kind.keyType), literal_value(v, kind.valueType))
        ]
        return F.create_map(*pairs).cast(kind)
    return F.lit(value).cast(kind)
