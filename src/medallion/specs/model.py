"""Typed objects for the spec files. Parsing happens in `loader`, cross-file checks in `validate`.

Each object keeps `row` (its line in the CSV, header = 1) so later checks and runtime errors can
point at the exact spreadsheet cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "LAYERS",
    "LOAD_PATTERNS",
    "SOURCE_FORMATS",
    "BronzeSource",
    "ColumnSpec",
    "GoldTable",
    "SilverTable",
    "Specs",
]

LAYERS = ("bronze", "silver", "gold")
SOURCE_FORMATS = ("csv", "json")
LOAD_PATTERNS = ("append", "overwrite", "merge")


@dataclass(frozen=True)
class ColumnSpec:
    """A column of a bronze or silver table (columns.csv)."""

    layer: str
    table: str
    name: str
    data_type: str
    expression: str = ""  # Spark SQL over the upstream row; "" = try_cast(<name> AS <data_type>)
    nullable: bool = True
    description: str = ""
    row: int = 0

    @property
    def select_expression(self) -> str:
        """The SQL that produces this column from the upstream table, always of the declared type."""
        if self.expression:
            return f"try_cast(({self.expression}) AS {self.data_type})"
        return f"try_cast(`{self.name}` AS {self.data_type})"


@dataclass(frozen=True)
class BronzeSource:
    """A landing folder ingested into one bronze table (bronze_sources.csv)."""

    table: str
    format: str
    landing_folder: str
    reader_options: dict[str, str] = field(default_factory=dict)
    description: str = ""
    columns: tuple[ColumnSpec, ...] = ()
    row: int = 0


@dataclass(frozen=True)
class SilverTable:
    """A silver table built from one bronze table (incremental_load_patterns.csv)."""

    table: str
    source_table: str
    load_pattern: str
    keys: tuple[str, ...] = ()
    sequence_by: tuple[str, ...] = ()
    delete_when: str = ""  # SQL predicate on the source row that marks a delete (merge only)
    partition_by: tuple[str, ...] = ()
    description: str = ""
    columns: tuple[ColumnSpec, ...] = ()
    row: int = 0


@dataclass(frozen=True)
class GoldTable:
    """A gold table rebuilt from a SQL file (gold_tables.csv)."""

    table: str
    sql_file: str
    sql: str = ""  # the file's text, placeholders (${silver}, ${gold}, ...) unresolved
    upstream: tuple[tuple[str, str], ...] = ()  # (layer, table) referenced in the SQL
    description: str = ""
    row: int = 0


@dataclass(frozen=True)
class Specs:
    """Every spec of a project, parsed and validated."""

    bronze: tuple[BronzeSource, ...] = ()
    silver: tuple[SilverTable, ...] = ()
    gold: tuple[GoldTable, ...] = ()  # in dependency order (a gold table after the gold it reads)

    def bronze_table(self, name: str) -> BronzeSource:
        return _by_name(self.bronze, name, "bronze")

    def silver_table(self, name: str) -> SilverTable:
        return _by_name(self.silver, name, "silver")

    def gold_table(self, name: str) -> GoldTable:
        return _by_name(self.gold, name, "gold")


def _by_name(items, name: str, layer: str):
    for item in items:
        if item.table == name:
            return item
    known = ", ".join(item.table for item in items) or "none"
    from medallion.errors import ParameterError

    raise ParameterError(f"no {layer} table named {name!r} in the specs (known: {known})")
