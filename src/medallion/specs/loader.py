"""Parse the spec files of a project into typed objects (`medallion.specs.model`).

Every registered spec file (`parsers.SPEC_FILES`) is read, each row is checked and parsed, then
`validate` compares the files with each other. Files in the specs folder that are not registered
are ignored. Every problem is collected, so one run lists all of them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medallion.errors import SpecError, SpecProblem
from medallion.specs.csv_rows import read_csv
from medallion.specs.draft import IDENTIFIER, IDENTIFIER_FIX, Draft, SpecFile
from medallion.specs.model import Specs
from medallion.specs.parsers import SPEC_FILES
from medallion.specs.quality import QUALITY_FILES, parse_check_files
from medallion.specs.validate import cross_check

__all__ = ["check_specs", "load_specs"]

log = logging.getLogger(__name__)


def load_specs(specs_dir: str | Path) -> Specs:
    """Every spec of `specs_dir`, checked; raises `SpecError` listing all problems."""
    specs, problems = _load(Path(specs_dir))
    if problems:
        raise SpecError(problems)
    return specs


def check_specs(specs_dir: str | Path) -> list[SpecProblem]:
    """All problems of `specs_dir`, sorted (empty = the specs are fine)."""
    return sorted(_load(Path(specs_dir))[1])


def _load(specs_dir: Path) -> tuple[Specs, list[SpecProblem]]:
    folder = specs_dir.resolve().name or str(specs_dir)
    if not specs_dir.is_dir():
        problem = SpecProblem(
            str(specs_dir), 0, "", "specs folder not found", "pass the folder holding the spec CSVs"
        )
        return Specs(), [problem]
    draft = Draft(specs_dir, folder)
    for spec_file in (*SPEC_FILES, *QUALITY_FILES):
        _parse_file(spec_file, draft)
    parse_check_files(draft)
    specs = cross_check(draft)
    log.debug("specs in %s: %d problems", specs_dir, len(draft.problems))
    return specs, draft.problems


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
        draft.unreadable.add(spec_file.name)
    seen: dict[tuple[str, ...], int] = {}
    for row in table.rows:
        empty = [name for name in spec_file.required if not row.get(name)]
        for name in empty:
            draft.problems.append(row.problem(name, "required cell is empty", f"fill in {name}"))
        if not spec_file.unique:
            spec_file.parse(row, draft)
            continue
        if any(not row.get(name) for name in spec_file.unique):
            continue
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
