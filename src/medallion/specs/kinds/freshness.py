"""Spec kind "freshness": how old each table may get, `freshness.csv` (optional; docs/operations.md).

Columns: table (`table` or `layer.table`), max_age (`90m`, `26h`, `2d`: the longest time since the
table last received rows), action (`notify`, the default, or `fail`, as in dq_alerting.csv) and a
description. The job's alerts task checks every row at the end of each run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from medallion.specs.cells import choice, duration_minutes, table_by_name
from medallion.specs.csv_rows import Row
from medallion.specs.registry import Draft, SpecFile, SpecKind

__all__ = ["FRESHNESS", "FRESHNESS_FILE", "FreshnessSla"]

FRESHNESS_FILE = "freshness.csv"
ACTIONS = ("notify", "fail")


@dataclass(frozen=True)
class FreshnessSla:
    table: str  # layer.table once checked
    max_age_minutes: int
    action: str = "notify"
    description: str = ""
    row: int = 0

    @property
    def layer(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[-1]


def _parse(row: Row, draft: Draft) -> None:
    age = duration_minutes(row, "max_age", draft)
    if age is None:  # reported: not a period, or empty (a required cell)
        return
    draft.add(
        "freshness",
        FreshnessSla(
            table=row.get("table"),
            max_age_minutes=age,
            action=choice(row, "action", ACTIONS, draft, default="notify"),
            description=row.get("description"),
            row=row.number,
        ),
    )


def check_freshness(draft: Draft) -> None:
    checked = []
    for sla in draft.of("freshness"):
        name = table_by_name(draft, FRESHNESS_FILE, sla.row, "table", sla.table)
        if name is not None:
            checked.append(replace(sla, table=name))
    draft.items["freshness"] = checked


FRESHNESS = SpecKind(
    name="freshness",
    description="freshness SLAs: the longest a table may go without new rows, and the alert action",
    files=(
        SpecFile(
            FRESHNESS_FILE,
            required=("table", "max_age"),
            optional=("action", "description"),
            unique=("table",),
            identifiers=(),
            parse=_parse,
            produces="freshness",
            may_be_missing=True,
        ),
    ),
    check=check_freshness,
    after=("tables", "history", "gold"),
)
