"""Parse the spec files of a project into typed objects, kind by kind from the registry.

Every file of every registered kind (`medallion.specs.kinds`) is read and each row checked and
parsed; then each kind's `check` compares its objects with the others'. Files in the specs folder
that no kind reads are ignored. Every problem is collected, so one run lists all of them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import medallion.specs.kinds  # noqa: F401  (registers the built-in kinds)
from medallion.errors import SpecError, SpecProblem
from medallion.specs.cells import IDENTIFIER, IDENTIFIER_FIX
from medallion.specs.csv_rows import read_csv
from medallion.specs.model import Specs
from medallion.specs.registry import Draft, SpecFile, spec_kinds

__all__ = ["check_specs", "load_specs"]

log = logging.getLogger(__name__)


_CACHE: dict[tuple, tuple[Specs, list[SpecProblem]]] = {}
_CACHE_SIZE = 8


def load_specs(specs_dir: str | Path) -> Specs:
    """Every spec of `specs_dir`, checked; raises `SpecError` listing all problems."""
    specs, problems = _load_unchanged(Path(specs_dir))
    if problems:
        raise SpecError(problems)
    return specs


def check_specs(specs_dir: str | Path) -> list[SpecProblem]:
    """All problems of `specs_dir`, sorted (empty = the specs are fine)."""
    return sorted(_load_unchanged(Path(specs_dir))[1])


def _load_unchanged(specs_dir: Path) -> tuple[Specs, list[SpecProblem]]:
    """`_load`, remembered while no file in the folder changed and the same kinds are registered.

    A job's notebooks load the same specs once per task and per for-each iteration; checking the
    data-quality rules with DQX each time costs more than the task's own work on small data.
    """
    key = _fingerprint(specs_dir)
    if key is None:
        return _load(specs_dir)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _load(specs_dir)
    specs, problems = _CACHE[key]
    return specs, list(problems)


def _fingerprint(specs_dir: Path) -> tuple | None:
    """Path, registered kinds and every file's size and modification time (None: not a folder)."""
    if not specs_dir.is_dir():
        return None
    files = []
    for path in sorted(specs_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            files.append((str(path.relative_to(specs_dir)), stat.st_size, stat.st_mtime_ns))
    return (str(specs_dir.resolve()), tuple(id(k) for k in spec_kinds()), tuple(files))


def _load(specs_dir: Path) -> tuple[Specs, list[SpecProblem]]:
    folder = specs_dir.resolve().name or str(specs_dir)
    if not specs_dir.is_dir():
        problem = SpecProblem(
            str(specs_dir), 0, "", "specs folder not found", "pass the folder holding the spec CSVs"
        )
        return Specs(), [problem]
    draft = Draft(specs_dir, folder)
    kinds = spec_kinds()
    for kind in kinds:
        for spec_file in kind.files:
            _parse_file(spec_file, draft)
        if kind.read is not None:
            kind.read(draft)
    for kind in kinds:
        if kind.check is not None:
            kind.check(draft)
    log.debug("specs in %s: %d problems", specs_dir, len(draft.problems))
    return Specs(draft.items), draft.problems


def _parse_file(spec_file: SpecFile, draft: Draft) -> None:
    if spec_file.may_be_missing and not (draft.specs_dir / spec_file.name).exists():
        return
    table = read_csv(
        draft.specs_dir / spec_file.name,
        draft.display(spec_file.name),
        spec_file.required,
        spec_file.optional,
        draft.problems,
    )
    if not table.readable:
        draft.unreadable.add(spec_file.produces)
    seen: dict[tuple[str, ...], int] = {}
    for row in table.rows:
        empty = [name for name in spec_file.required if not row.get(name)]
        for name in empty:
            draft.problems.append(row.problem(name, "required cell is empty", f"fill in {name}"))
        if not spec_file.unique:
            spec_file.parse(row, draft)
            continue
        if any(not row.get(name) for name in spec_file.unique if name in spec_file.required):
            continue  # reported above; an empty optional cell is a value of its own (e.g. no column)
        for name in spec_file.identifiers:
            value = row.get(name)
            if value and not IDENTIFIER.match(value):
                draft.problems.append(row.problem(name, f"{value!r} is not a valid name", IDENTIFIER_FIX))
        key = tuple(row.get(name).lower() for name in spec_file.unique)
        if key in seen:
            *owner, last = spec_file.unique
            where = f" of {' '.join(row.get(name) for name in owner)}" if owner else ""
            draft.problems.append(
                row.problem(
                    last,
                    f"duplicate {last} {row.get(last)!r}{where} (already on row {seen[key]})",
                    "keep one row per name",
                )
            )
            continue
        seen[key] = row.number
        spec_file.parse(row, draft)
