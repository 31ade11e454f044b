"""The registry of spec kinds, and the state of one spec load that every kind fills.

A spec kind is one module under `medallion.specs.kinds`: the files it reads (`SpecFile` per CSV, or
a `read` step for a folder of other files), the objects its rows become, and its cross-file
`check`. The loader and `medallion validate` only iterate this registry, so adding a kind means
writing its module and registering it (`specs/kinds/__init__.py`), nothing else in `specs/`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medallion.errors import SpecProblem
from medallion.specs.csv_rows import Row

__all__ = [
    "Draft",
    "SpecFile",
    "SpecKind",
    "register_kind",
    "registered_kind",
    "spec_kinds",
    "unregister_kind",
]


@dataclass
class Draft:
    """Objects parsed so far, keyed by what they are ("bronze", "silver", ...), plus every problem.

    Row parsers append to `items`; each kind's `check` then compares them with the other kinds'
    items and may replace them with finished objects (columns attached, defaults resolved).
    """

    specs_dir: Path
    folder: str  # how problems name the specs folder, e.g. "specs"
    items: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    problems: list[SpecProblem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # item keys of files whose rows could not all be read

    def of(self, key: str) -> list[Any]:
        return self.items[key]

    def add(self, key: str, item: Any) -> None:
        self.items[key].append(item)

    def display(self, name: str) -> str:
        return f"{self.folder}/{name}"

    def readable(self, *keys: str) -> bool:
        """False when a file holding such items was broken: checks against it would only repeat its problem."""
        return not self.unreadable.intersection(keys)

    def problem(self, name: str, row: int, column: str, message: str, fix: str = "") -> None:
        """Record a problem at `name` (a path relative to the specs folder), row and column."""
        self.problems.append(SpecProblem(self.display(name), row, column, message, fix))


@dataclass(frozen=True)
class SpecFile:
    """A CSV spec file: `required` headers must be present and their cells filled.

    `unique` cells identify a row (a repeat is a duplicate); `identifiers` cells must be valid
    table/column names. `parse` turns one row into items on the draft; `produces` names the item
    key its rows become, so a broken file silences the cross-file checks that read those items.
    """

    name: str  # relative to the specs folder, e.g. "columns.csv" or "data_quality/dq_rules.csv"
    required: tuple[str, ...]
    optional: tuple[str, ...]
    unique: tuple[str, ...]
    identifiers: tuple[str, ...]
    parse: Callable[[Row, Draft], None]
    produces: str
    may_be_missing: bool = False  # a project without such tables may leave the file out

    @property
    def headers(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


@dataclass(frozen=True)
class SpecKind:
    """One kind of spec: the files it reads and how it checks them against the other kinds.

    `read` parses files that are not row-per-object CSVs (a folder of YAML, SQL files). `check`
    runs after every file of every kind was parsed, once the kinds in `after` have run theirs.
    """

    name: str
    files: tuple[SpecFile, ...] = ()
    read: Callable[[Draft], None] | None = None
    check: Callable[[Draft], None] | None = None
    after: tuple[str, ...] = ()
    description: str = ""


_KINDS: dict[str, SpecKind] = {}


def register_kind(kind: SpecKind) -> SpecKind:
    """Add a kind to the registry (the name must be new); returns it, to keep as a module constant."""
    if kind.name in _KINDS:
        raise ValueError(f"spec kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    _KINDS.pop(name, None)


@contextmanager
def registered_kind(kind: SpecKind) -> Iterator[SpecKind]:
    """Register a kind for the length of a block (tests, experiments)."""
    register_kind(kind)
    try:
        yield kind
    finally:
        unregister_kind(kind.name)


def spec_kinds() -> tuple[SpecKind, ...]:
    """Every registered kind, each after the kinds its check needs (registration order otherwise)."""
    ordered: list[SpecKind] = []
    placed: set[str] = set()

    def place(kind: SpecKind, path: tuple[str, ...]) -> None:
        if kind.name in placed:
            return
        if kind.name in path:
            raise ValueError(f"spec kinds wait for each other: {' -> '.join((*path, kind.name))}")
        for name in kind.after:
            if name not in _KINDS:
                raise ValueError(f"spec kind {kind.name!r} runs after {name!r}, which is not registered")
            place(_KINDS[name], (*path, kind.name))
        placed.add(kind.name)
        ordered.append(kind)

    for kind in list(_KINDS.values()):
        place(kind, ())
    return tuple(ordered)
