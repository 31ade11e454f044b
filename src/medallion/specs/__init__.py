"""Spec files -> typed, validated objects.

`load_specs(specs_dir)` parses every spec file of every registered kind and runs every check,
raising `SpecError` with all problems at once; `check_specs(specs_dir)` returns the problems
instead. No Spark is imported here, so `medallion validate` runs without a JVM. A new kind of spec
is one module in `medallion.specs.kinds`, registered there (`SpecKind`, `register_kind`).
"""

from __future__ import annotations

from medallion.specs.load_patterns import LOAD_PATTERNS, LoadPattern
from medallion.specs.loader import check_specs, load_specs
from medallion.specs.model import (
    LAYERS,
    BronzeSpec,
    ColumnSpec,
    GoldSpec,
    QualityAlert,
    QualityRule,
    ScdSpec,
    SilverSpec,
    Specs,
)
from medallion.specs.registry import Draft, SpecFile, SpecKind, register_kind, registered_kind, spec_kinds

__all__ = [
    "LAYERS",
    "LOAD_PATTERNS",
    "BronzeSpec",
    "ColumnSpec",
    "Draft",
    "GoldSpec",
    "LoadPattern",
    "QualityAlert",
    "QualityRule",
    "ScdSpec",
    "SilverSpec",
    "SpecFile",
    "SpecKind",
    "Specs",
    "check_specs",
    "load_specs",
    "register_kind",
    "registered_kind",
    "spec_kinds",
]
