"""A small SCD table driven batch by batch through the real silver path (`process_batch`)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from medallion.context import RunContext
from medallion.layers.silver import ensure_table
from medallion.layers.silver_batch import process_batch
from medallion.quality.checks import start_quality_run
from medallion.specs.model import ColumnSpec, ScdSpec, SilverSpec

BRONZE_COLUMNS = ("id", "name", "tier", "note", "updated_at", "op")
SILVER_COLUMNS = (
    ("id", "string", ""),
    ("name", "string", ""),
    ("tier", "string", ""),
    ("note", "string", ""),
    ("updated_at", "int", ""),
)


def scd_table(scd_type: int = 2, *, sequence_type: str = "int", **scd) -> SilverSpec:
    """dim_item: key id, sequence updated_at (an int by default: business time, easy to read),
    tracked name and tier, untracked note; `op = 'D'` marks a delete."""
    columns = tuple(
        ColumnSpec(
            layer="silver",
            table="dim_item",
            name=n,
            data_type=sequence_type if n == "updated_at" else t,
            expression=e,
        )
        for n, t, e in SILVER_COLUMNS
    )
    spec = ScdSpec(scd_type=scd_type, tracked_columns=("name", "tier"), untracked_columns=("note",))
    return SilverSpec(
        table="dim_item",
        source_table="items",
        load_pattern=f"scd{scd_type}",
        keys=("id",),
        sequence_by=("updated_at",),
        delete_when="op = 'D'",
        columns=columns,
        scd=replace(spec, **scd),
        spec_file="scd_mappings.csv",
    )


class ScdHarness:
    """Feeds bronze-shaped rows (dicts of strings) to one silver table in a fresh schema."""

    def __init__(
        self, spark, table: SilverSpec, schema: str | None = None, checkpoint_root: str = "/nonexistent"
    ):
        self.spark = spark
        self.table = table
        schema = schema or f"scd_{uuid.uuid4().hex[:8]}"
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{schema}`")
        self.ctx = RunContext(
            target="test",
            catalog="spark_catalog",
            bronze_schema=schema,
            silver_schema=schema,
            gold_schema=schema,
            landing_root="/nonexistent",
            checkpoint_root=checkpoint_root,
            specs_dir="/nonexistent",
        )
        self.batch_id = -1
        self.target = ensure_table(spark, table, self.ctx, source_schema=self._schema())

    def _schema(self):
        from pyspark.sql.types import StringType, StructField, StructType, TimestampType

        fields = [StructField(c, StringType()) for c in BRONZE_COLUMNS]
        fields += [StructField("_source_file", StringType()), StructField("_ingested_at", TimestampType())]
        return StructType(fields)

    def bronze(self, rows: list[dict]):
        data = [
            (
                *(None if r.get(c) is None else str(r[c]) for c in BRONZE_COLUMNS),
                f"drop_{self.batch_id + 1}.csv",
                datetime(2024, 1, 1),
            )
            for r in rows
        ]
        return self.spark.createDataFrame(data, self._schema())

    def apply(self, rows: list[dict], batch_id: int | None = None) -> dict[str, int]:
        """One micro-batch; `batch_id` repeats an earlier one (a replay) when given."""
        if batch_id is None:
            self.batch_id += 1
            batch_id = self.batch_id
        quality = start_quality_run(self.spark, self.table, f"batch-{batch_id}", self.target.neighbour)
        return process_batch(self.spark, self.bronze(rows), batch_id, self.table, self.target, quality)

    @property
    def name(self) -> str:
        return self.ctx.table("silver", self.table.table)

    def rows(self, *columns: str) -> list[tuple]:
        """The silver rows as tuples of `columns` (default: all but lineage), sorted."""
        df = self.spark.read.table(self.name)
        columns = columns or tuple(c for c in df.columns if not c.startswith("_"))
        return sorted((tuple(r) for r in df.select(*columns).collect()), key=_sort_key)

    def quarantine(self) -> list[tuple]:
        q = self.target.quarantine
        if not self.spark.catalog.tableExists(q.replace("`", "")):
            return []
        rows = self.spark.read.table(q).select("id", "updated_at", "_quarantine_reason").collect()
        return sorted((tuple(r) for r in rows), key=_sort_key)

    def version(self) -> int:
        from medallion.delta.tables import current_version

        return current_version(self.spark, self.name)


def _sort_key(values: tuple) -> tuple:
    """NULLs sort last, so rows with NULLs compare without errors."""
    return tuple((v is None, v if v is not None else 0) for v in values)
