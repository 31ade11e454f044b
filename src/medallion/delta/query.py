"""Looking at the local lakehouse: `medallion sql` and `medallion tables`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from medallion.delta.literal_rows import literal_frame
from medallion.delta.tables import last_commit

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["format_rows", "table_inventory"]


def format_rows(df: DataFrame, fmt: str = "table", *, limit: int = 1000) -> str:
    """Render a DataFrame's first `limit` rows as an aligned table, JSON lines or CSV."""
    columns = df.columns
    rows = [r.asDict(recursive=True) for r in df.limit(limit).collect()]
    if fmt == "json":
        return "\n".join(json.dumps(r, default=str) for r in rows)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    body = [line(columns), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    body.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(body)


def _cell(value) -> str:
    return "NULL" if value is None else str(value)


def table_inventory(spark: SparkSession, schemas: Iterable[str] | None = None) -> DataFrame:
    """Every table of every schema in the session's catalog (or of `schemas`): rows, Delta version,
    last update."""
    records = []
    wanted = None if schemas is None else set(schemas)
    for schema in sorted(row[0] for row in spark.sql("SHOW SCHEMAS").collect()):
        if wanted is not None and schema not in wanted:
            continue
        for table in spark.sql(f"SHOW TABLES IN `{schema}`").collect():
            if table["isTemporary"]:
                continue
            name = f"`{schema}`.`{table['tableName']}`"
            commit = last_commit(spark, name) or {}
            records.append(
                (
                    schema,
                    table["tableName"],
                    spark.table(name).count(),
                    commit.get("version"),
                    str(commit.get("timestamp", "")),
                )
            )
    return literal_frame(
        spark, records, "schema string, table string, rows bigint, delta_version bigint, last_update string"
    )
