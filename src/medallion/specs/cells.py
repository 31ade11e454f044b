"""Checks of one spec cell, shared by every kind: names, lists of names, a word from a fixed list,
numbers, relative paths, and the "did you mean" hint that goes with a wrong name.

Each check appends a `SpecProblem` at the cell (file:row:column) and returns what it could read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from medallion.specs.csv_rows import Row
from medallion.specs.hints import did_you_mean
from medallion.specs.registry import Draft

__all__ = [
    "IDENTIFIER",
    "IDENTIFIER_FIX",
    "choice",
    "did_you_mean",
    "duration_minutes",
    "flag",
    "name_list",
    "number",
    "relative_path",
    "spec_tables",
    "table_by_name",
]

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IDENTIFIER_FIX = "use letters, digits and _ only, starting with a letter or _"
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$", re.IGNORECASE)
_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def choice(
    row: Row, column: str, allowed: Iterable[str], draft: Draft, default: str = "", fix: str = ""
) -> str:
    """The cell as one of `allowed` (lower case); empty takes `default`. An unknown word is reported
    and returned as it is, so later checks can tell it was given."""
    allowed = tuple(allowed)
    text = row.get(column)
    word = (text or default).lower()
    if word and word not in allowed:
        empty = f" (empty = {default})" if default else ""
        hint = fix or f"use one of: {', '.join(allowed)}{empty}"
        draft.problems.append(row.problem(column, f"unknown {column} {text!r}", hint))
    return word


def flag(row: Row, column: str, draft: Draft, default: bool = True) -> bool:
    """A true/false cell (also yes/no, 1/0); empty takes `default`."""
    text = row.get(column).lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    draft.problems.append(
        row.problem(column, f"{column} must be true or false, not {row.get(column)!r}", "use true or false")
    )
    return default


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


def number(
    row: Row, column: str, draft: Draft, *, low: float, high: float | None = None, integer: bool = False
) -> float | None:
    """A number cell within [low, high]; `99%` reads as 0.99. Empty is None."""
    text = row.get(column).strip()
    if not text:
        return None
    percent = text.endswith("%")
    try:
        value: float | None = float(text.rstrip("%")) / (100 if percent else 1)
    except ValueError:
        value = None
    bad = (
        value is None
        or value < low
        or (high is not None and value > high)
        or (integer and (percent or value != int(value)))
    )
    if bad:
        span = f"between {low} and {high}" if high is not None else f"{low} or more"
        kind = "a whole number" if integer else "a number"
        example = "e.g. 0" if integer else "e.g. 0.99 or 99%"
        draft.problems.append(row.problem(column, f"{text!r} is not {kind} {span}", example))
        return None
    return value


def relative_path(row: Row, column: str, value: str, draft: Draft, fix: str) -> bool:
    """True when `value` is a path inside its folder (not absolute, no `..`)."""
    path = value.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "://" in path:
        draft.problems.append(
            row.problem(column, f"{value!r} is an absolute path", f"use a relative path: {fix}")
        )
        return False
    if ".." in PurePosixPath(path).parts:
        draft.problems.append(row.problem(column, f"{value!r} leaves its folder with ..", f"use {fix}"))
        return False
    return True


def duration_minutes(row: Row, column: str, draft: Draft, default: int | None = None) -> int | None:
    """A period cell (`90m`, `26h`, `2d`) in minutes; empty takes `default`."""
    text = row.get(column)
    if not text:
        return default
    match = _DURATION.match(text)
    if match is None or int(match[1]) == 0:
        draft.problems.append(row.problem(column, f"{text!r} is not a period", "e.g. 90m, 26h or 2d"))
        return default
    return int(match[1]) * _MINUTES[match[2].lower()]


def spec_tables(draft: Draft) -> dict[str, object]:
    """Every bronze, silver and gold table of the specs as `layer.table` (lower case) -> its spec."""
    return {
        f"{layer}.{item.table.lower()}": item
        for layer in ("bronze", "silver", "gold")
        for item in draft.of(layer)
    }


def table_by_name(draft: Draft, file: str, row: int, column: str, text: str) -> str | None:
    """`table` or `layer.table` as the one `layer.table` it names; a problem when none or several."""
    tables = spec_tables(draft)
    name = text.lower()
    found = [name] if name in tables else [t for t in tables if t.split(".", 1)[1] == name]
    if len(found) == 1:
        return found[0]
    fix = (
        f"write {' or '.join(found)}"
        if found
        else did_you_mean(text, [t.split(".")[1] for t in tables], "tables")
    )
    draft.problem(file, row, column, f"{'ambiguous' if found else 'unknown'} table {text!r}", fix)
    return None
