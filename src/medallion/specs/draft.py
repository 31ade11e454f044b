"""Shared state of one spec load: the spec file names, the draft being filled and `SpecFile`.

Kept apart from `loader` and `parsers` so the row parsers, the registry and the cross-file checks
can all use it without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from medallion.errors import SpecProblem
from medallion.specs.csv_rows import Row
from medallion.specs.model import (
    BronzeSource,
    ColumnSpec,
    GoldTable,
    QualityAlert,
    QualityRule,
    SilverTable,
)

__all__ = [
    "ALERTS_FILE",
    "BRONZE_FILE",
    "COLUMNS_FILE",
    "GOLD_FILE",
    "GOLD_SQL_FOLDER",
    "IDENTIFIER",
    "IDENTIFIER_FIX",
    "QUALITY_FOLDER",
    "RULES_FILE",
    "SCD_FILE",
    "SILVER_FILE",
    "Draft",
    "SpecFile",
    "name_list",
]

BRONZE_FILE = "bronze_sources.csv"
SILVER_FILE = "incremental_load_patterns.csv"
SCD_FILE = "scd_mappings.csv"
COLUMNS_FILE = "columns.csv"
GOLD_FILE = "gold_tables.csv"
GOLD_SQL_FOLDER = "gold"
QUALITY_FOLDER = "data_quality"
RULES_FILE = f"{QUALITY_FOLDER}/dq_rules.csv"
ALERTS_FILE = f"{QUALITY_FOLDER}/dq_alerting.csv"

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IDENTIFIER_FIX = "use letters, digits and _ only, starting with a letter or _"


@dataclass
class Draft:
    """Objects parsed so far plus every problem found; `validate` turns it into `Specs`."""

    specs_dir: Path
    folder: str  # how problems name the specs folder, e.g. "specs"
    bronze: list[BronzeSource] = field(default_factory=list)
    silver: list[SilverTable] = field(default_factory=list)
    gold: list[GoldTable] = field(default_factory=list)
    columns: list[ColumnSpec] = field(default_factory=list)
    rules: list[QualityRule] = field(default_factory=list)
    alerts: list[QualityAlert] = field(default_factory=list)
    problems: list[SpecProblem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # files whose rows could not all be read

    def display(self, name: str) -> str:
        return f"{self.folder}/{name}"

    def readable(self, *names: str) -> bool:
        """Cross-file checks against a broken file would only repeat its problem."""
        return not self.unreadable.intersection(names)


@dataclass(frozen=True)
class SpecFile:
    """A CSV spec file: `required` headers must be present and their cells filled.

    `unique` cells identify a row (a repeat is a duplicate); `identifiers` cells must be valid
    table/column names. `parse` turns one row into objects on the draft.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    unique: tuple[str, ...]
    identifiers: tuple[str, ...]
    parse: Callable[[Row, Draft], None]
    may_be_missing: bool = False  # a project without such tables may leave the file out


def name_list(row: Row, column: str, draft: Draft) -> tuple[str, ...]:
    """Column names separated by `,` or `;` in one cell."""
    names: list[str] = []
    for item in re.split(r"[,;]", row.get(column)):
        name = item.strip()
        if not name:
            continue
        if not IDENTIFIER.match(name):
            draft.problems.append(row.problem(column, f"{name!r} is not a valid column name", IDENTIFIER_FIX))
        elif name.lower() in (n.lower() for n in names):
            draft.problems.append(row.problem(column, f"{name!r} is listed twice", "list each column once"))
        else:
            names.append(name)
    return tuple(names)
