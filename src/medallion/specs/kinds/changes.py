"""Spec kind "changes": how a breaking spec change is accepted (docs/operations.md, `medallion specs diff`).

- `full_refresh.csv` (table, reason): silver tables the next run rebuilds from bronze, once. A row
  acknowledges a breaking change to that table (new keys, a removed column, ...); the job records
  the row's fingerprint on the table, so the refresh happens once however often the row stays.
- `retired_tables.csv` (table, reason): tables removed from the specs on purpose. The job no longer
  builds them; their data stays until someone drops it.
"""

from __future__ import annotations

from dataclasses import dataclass

from medallion.specs.cells import did_you_mean
from medallion.specs.csv_rows import Row
from medallion.specs.registry import Draft, SpecFile, SpecKind

__all__ = ["CHANGES", "FULL_REFRESH_FILE", "RETIRED_FILE", "FullRefresh", "RetiredTable"]

FULL_REFRESH_FILE = "full_refresh.csv"
RETIRED_FILE = "retired_tables.csv"


@dataclass(frozen=True)
class FullRefresh:
    table: str
    reason: str
    row: int = 0

    @property
    def fingerprint(self) -> str:
        """Identifies this request: a new reason is a new refresh."""
        return f"{self.table.lower()}:{self.reason.strip()}"


@dataclass(frozen=True)
class RetiredTable:
    table: str
    reason: str
    row: int = 0


def _parse_refresh(row: Row, draft: Draft) -> None:
    draft.add("full_refresh", FullRefresh(row.get("table"), row.get("reason"), row.number))


def _parse_retired(row: Row, draft: Draft) -> None:
    draft.add("retired_tables", RetiredTable(row.get("table"), row.get("reason"), row.number))


def check_changes(draft: Draft) -> None:
    silver = {t.table.lower() for t in draft.of("silver")}
    every = {t.table.lower() for layer in ("bronze", "silver", "gold") for t in draft.of(layer)}
    for refresh in draft.of("full_refresh"):
        if refresh.table.lower() not in silver:
            draft.problem(
                FULL_REFRESH_FILE,
                refresh.row,
                "table",
                f"{refresh.table!r} is not a silver table",
                did_you_mean(refresh.table, sorted(silver), "silver tables"),
            )
    for retired in draft.of("retired_tables"):
        if retired.table.lower() in every:
            draft.problem(
                RETIRED_FILE,
                retired.row,
                "table",
                f"{retired.table} is retired but still in the specs",
                "remove its spec rows, or this row",
            )


CHANGES = SpecKind(
    name="changes",
    description="full refreshes and retired tables that accept breaking spec changes",
    files=(
        SpecFile(
            FULL_REFRESH_FILE,
            required=("table", "reason"),
            optional=(),
            unique=("table",),
            identifiers=("table",),
            parse=_parse_refresh,
            produces="full_refresh",
            may_be_missing=True,
        ),
        SpecFile(
            RETIRED_FILE,
            required=("table", "reason"),
            optional=(),
            unique=("table",),
            identifiers=("table",),
            parse=_parse_retired,
            produces="retired_tables",
            may_be_missing=True,
        ),
    ),
    check=check_changes,
    after=("tables", "history", "gold"),
)
