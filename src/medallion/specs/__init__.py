"""Spec files -> typed, validated objects.

`load_specs(specs_dir)` parses every spec file and runs every check, raising `SpecError` with all
problems at once; `check_specs(specs_dir)` returns the problems instead. No Spark is imported here,
so `medallion validate` runs without a JVM.
"""

from __future__ import annotations

from medallion.specs.loader import check_specs, load_specs
from medallion.specs.model import (
    LAYERS,
    LOAD_PATTERNS,
    SOURCE_FORMATS,
    BronzeSource,
    ColumnSpec,
    GoldTable,
    ScdSpec,
    SilverTable,
    Specs,
)
from medallion.specs.parsers import SPEC_FILES

__all__ = [
    "LAYERS",
    "LOAD_PATTERNS",
    "SOURCE_FORMATS",
    "SPEC_FILES",
    "BronzeSource",
    "ColumnSpec",
    "GoldTable",
    "ScdSpec",
    "SilverTable",
    "Specs",
    "check_specs",
    "load_specs",
]
