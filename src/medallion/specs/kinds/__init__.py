"""The registered spec kinds, in the order their files are read.

To add a kind: write its module here (files, parsers, typed objects, `check`), then register its
`SpecKind` below. The loader, `Specs` and `medallion validate` pick it up from the registry.
"""

from __future__ import annotations

from medallion.specs.kinds.changes import CHANGES
from medallion.specs.kinds.dashboards import DASHBOARDS
from medallion.specs.kinds.data_quality import DATA_QUALITY
from medallion.specs.kinds.freshness import FRESHNESS
from medallion.specs.kinds.gold import GOLD
from medallion.specs.kinds.history import HISTORY
from medallion.specs.kinds.maintenance import MAINTENANCE
from medallion.specs.kinds.security import SECURITY
from medallion.specs.kinds.tables import TABLES
from medallion.specs.registry import register_kind

__all__ = [
    "CHANGES",
    "DASHBOARDS",
    "DATA_QUALITY",
    "FRESHNESS",
    "GOLD",
    "HISTORY",
    "MAINTENANCE",
    "SECURITY",
    "TABLES",
]

for _kind in (TABLES, HISTORY, GOLD, DATA_QUALITY, SECURITY, DASHBOARDS, CHANGES, MAINTENANCE, FRESHNESS):
    register_kind(_kind)
