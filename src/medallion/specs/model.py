"""Typed objects of the medallion table specs, shared by the kinds that parse them and the layers that
build them. Parsing and cross-file checks live with each kind in `medallion.specs.kinds`.

Each object keeps `row` (its line in the CSV, header = 1) so later checks and runtime errors can
point at the exact spreadsheet cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from medallion.errors import ParameterError

__all__ = [
    "LAYERS",
    "BronzeSpec",
    "ColumnSpec",
    "GoldSpec",
    "QualityAlert",
    "QualityRule",
    "ScdSpec",
    "SilverSpec",
    "Specs",
]

LAYERS = ("bronze", "silver", "gold")


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
class BronzeSpec:
    """A landing folder ingested into one bronze table (bronze_sources.csv)."""

    table: str
    format: str
    landing_folder: str
    reader_options: dict[str, str] = field(default_factory=dict)
    description: str = ""
    columns: tuple[ColumnSpec, ...] = ()
    row: int = 0
    # What a landing file with fields the spec does not declare does (SCHEMA_EVOLUTION in kinds/tables).
    schema_evolution: str = "rescue"


@dataclass(frozen=True)
class ScdSpec:
    """How a slowly changing dimension keeps history (a row of scd_mappings.csv).

    `tracked_columns` is resolved by `validate`: when the spec leaves it empty it becomes every
    column that is not a key, a sequence column or untracked.
    """

    scd_type: int  # 1: latest version only; 2: one row per version with validity columns
    source_kind: str = "changes"  # changes: rows are change events; snapshot: each drop is the table
    tracked_columns: tuple[str, ...] = ()
    untracked_columns: tuple[str, ...] = ()
    effective_from_column: str = "effective_from"
    effective_to_column: str = "effective_to"
    is_current_column: str = "is_current"

    @property
    def validity_columns(self) -> tuple[str, ...]:
        """The columns SCD2 adds to the table (none for SCD1)."""
        if self.scd_type != 2:
            return ()
        return (self.effective_from_column, self.effective_to_column, self.is_current_column)


@dataclass(frozen=True)
class QualityRule:
    """One data-quality rule of a silver table, as a DQX check (a rules CSV row or a DQX YAML item).

    `check` is DQX metadata: {"name", "criticality", "check": {"function", "arguments" |
    "for_each_column"}, "filter", "user_metadata"}. `on_error` fail stops the task instead of
    quarantining. `file`/`row` say where the rule was written, for error messages.
    """

    table: str
    name: str
    check: dict = field(hash=False, compare=False)
    on_error: str = "quarantine"
    file: str = ""
    row: int = 0
    # dq_rules.csv's plain `allowed` / `min` / `max` cells as typed; the checks turn them into DQX
    # arguments (quoted or typed for the column) in `check`.
    plain_values: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def function(self) -> str:
        return str(self.check.get("check", {}).get("function", ""))

    @property
    def criticality(self) -> str:
        return str(self.check.get("criticality", "error"))


@dataclass(frozen=True)
class QualityAlert:
    """A threshold on a run's rule metrics (dq_alerting.csv); `table`/`rule` "*" match all."""

    table: str
    rule: str = "*"
    min_pass_rate: float | None = None  # 0..1: alert when fewer rows pass
    max_failed_rows: int | None = None  # alert when more rows fail
    action: str = "fail"
    description: str = ""
    file: str = ""  # where the alert was written (specs/data_quality/dq_alerting.csv)
    row: int = 0

    def matches(self, table: str, rule: str) -> bool:
        return self.table in ("*", table) and self.rule in ("*", rule)


@dataclass(frozen=True)
class SilverSpec:
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
    scd: ScdSpec | None = None  # set for scd1/scd2 tables (declared in scd_mappings.csv)
    spec_file: str = "incremental_load_patterns.csv"  # the file `row` refers to (or scd_mappings.csv)
    rules: tuple[QualityRule, ...] = ()  # data-quality rules (specs/data_quality/)


@dataclass(frozen=True)
class GoldSpec:
    """A gold table rebuilt from a SQL file (gold_tables.csv)."""

    table: str
    sql_file: str
    sql: str = ""  # the file's text, placeholders (${silver}, ${gold}, ...) unresolved
    upstream: tuple[tuple[str, str], ...] = ()  # (layer, table) referenced in the SQL
    description: str = ""
    row: int = 0
    # Refresh by key (layers/gold_refresh.py): a column of the result, and the SQL finding which of
    # its values changes upstream can alter; `changes_from` = the silver tables it reads `${changes}` of.
    refresh_key: str = ""
    keys_sql_file: str = ""
    keys_sql: str = ""
    changes_from: tuple[str, ...] = ()


class Specs:
    """Every spec of a project, parsed and checked: each kind's objects under its item key.

    The medallion tables have named views (`bronze`, `silver`, `gold` in dependency order, `alerts`);
    any other kind's objects are `specs.of("<key>")`.
    """

    def __init__(self, items: Mapping[str, tuple] | None = None, **named: tuple) -> None:
        merged = {key: tuple(value) for key, value in {**(items or {}), **named}.items()}
        self._items: Mapping[str, tuple] = MappingProxyType(merged)

    def of(self, key: str) -> tuple:
        """The objects of one kind (empty when the project has none)."""
        return self._items.get(key, ())

    @property
    def bronze(self) -> tuple[BronzeSpec, ...]:
        return self.of("bronze")

    @property
    def silver(self) -> tuple[SilverSpec, ...]:
        return self.of("silver")

    @property
    def gold(self) -> tuple[GoldSpec, ...]:
        return self.of("gold")

    @property
    def alerts(self) -> tuple[QualityAlert, ...]:
        return self.of("alerts")

    def bronze_table(self, name: str) -> BronzeSpec:
        return _by_name(self.bronze, name, "bronze")

    def silver_table(self, name: str) -> SilverSpec:
        return _by_name(self.silver, name, "silver")

    def gold_table(self, name: str) -> GoldSpec:
        return _by_name(self.gold, name, "gold")


def _by_name(items, name: str, layer: str):
    for item in items:
        if item.table == name:
            return item
    known = ", ".join(item.table for item in items) or "none"
    raise ParameterError(f"no {layer} table named {name!r} in the specs (known: {known})")
