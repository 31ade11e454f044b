"""Cells and lookups the security spec files share: principal names, mask arguments, and the tables
and declared columns of the other spec kinds (`SpecTables`)."""

from __future__ import annotations

import re

from medallion.specs.cells import did_you_mean
from medallion.specs.csv_rows import Row
from medallion.specs.registry import Draft
from medallion.specs.sql_text import expression_problems

__all__ = [
    "PRINCIPAL_FIX",
    "TABLE_LAYERS",
    "SpecTables",
    "check_mask_argument",
    "check_principal",
    "principals",
]

TABLE_LAYERS = ("bronze", "silver", "gold")
_PRINCIPAL = re.compile(r"^[^`'\"\s](?:[^`'\"]{0,253}[^`'\"\s])?$")


def check_mask_argument(row: Row, kind: str, argument: str, draft: Draft) -> None:
    """`partial` needs a count; `sql` an expression that scans."""
    if kind == "partial" and not (argument.isdigit() and int(argument) > 0):
        draft.problems.append(
            row.problem(
                "argument", f"partial needs the number of characters to keep, got {argument!r}", "e.g. 4"
            )
        )
    if kind == "sql":
        if not argument:
            draft.problems.append(
                row.problem("argument", "mask sql needs an expression", "e.g. concat('***', right(value, 2))")
            )
        for message, fix in expression_problems(argument):
            draft.problems.append(row.problem("argument", message, fix))


PRINCIPAL_FIX = "a group, user e-mail or service principal id: no quotes or backticks, no outer spaces"


def check_principal(row: Row, column: str, name: str, what: str, draft: Draft) -> bool:
    """A well-formed principal name; a bad one is reported at its cell."""
    if _PRINCIPAL.match(name):
        return True
    draft.problems.append(row.problem(column, f"{name!r} is not a {what} name", PRINCIPAL_FIX))
    return False


def principals(row: Row, column: str, draft: Draft) -> tuple[str, ...]:
    names: list[str] = []
    for item in re.split(r"[,;]", row.get(column)):
        name = item.strip()
        if not name:
            continue
        if check_principal(row, column, name, "group", draft) and name not in names:
            names.append(name)
    return tuple(names)


class SpecTables:
    """Table names of the specs by layer, and the declared columns (and types) of each."""

    def __init__(self, draft: Draft):
        self.columns: dict[str, dict[str, str] | None] = {}
        for layer in TABLE_LAYERS:
            for item in draft.of(layer):
                declared = getattr(item, "columns", None)
                columns = None
                if declared:
                    columns = {c.name.lower(): c.data_type.split("(")[0].lower() for c in declared}
                    scd = getattr(item, "scd", None)
                    if scd is not None and scd.scd_type == 2:
                        sequence = columns.get(item.sequence_by[0].lower(), "") if item.sequence_by else ""
                        columns[scd.effective_from_column.lower()] = sequence
                        columns[scd.effective_to_column.lower()] = sequence
                        columns[scd.is_current_column.lower()] = "boolean"
                self.columns[f"{layer}.{item.table.lower()}"] = columns

    def resolve(self, draft: Draft, file: str, row: int, name: str) -> str | None:
        """`layer.table` for a `table` or `layer.table` cell, or None (reported)."""
        wanted = name.lower()
        if "." in wanted:
            found = [wanted] if wanted in self.columns else []
        else:
            found = [key for key in self.columns if key.split(".", 1)[1] == wanted]
        if len(found) == 1:
            return found[0]
        if found:
            draft.problem(
                file, row, "table", f"{name!r} is a table in several layers", f"write {' or '.join(found)}"
            )
        else:
            short = [key.split(".", 1)[1] for key in self.columns]
            draft.problem(file, row, "table", f"unknown table {name!r}", did_you_mean(name, short, "tables"))
        return None

    def column_type(self, draft: Draft, file: str, row: int, table: str, column: str, cell: str = "column"):
        """The declared type of `column` ("" when the table's columns are not declared, e.g. gold);
        None when the table has no such column (reported)."""
        columns = self.columns[table]
        if columns is None:
            return ""
        if column.lower() in columns:
            return columns[column.lower()]
        draft.problem(
            file,
            row,
            cell,
            f"{table} has no column {column!r}",
            did_you_mean(column, list(columns), "columns"),
        )
        return None
