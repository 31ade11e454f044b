"""Read one spec CSV into trimmed rows keyed by header name.

Spec files are edited by hand and in spreadsheets, so every way a file can be broken (missing,
empty, not UTF-8, ragged rows, typo in a header) becomes a `SpecProblem` pointing at the row a
spreadsheet shows, never a traceback.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from medallion.errors import SpecProblem
from medallion.specs.hints import close_matches

__all__ = ["CsvTable", "Row", "is_ignored_header", "read_csv"]

log = logging.getLogger(__name__)

# Free-form columns a team may add to any spec file without tripping the unknown-header check.
IGNORED_HEADERS = frozenset({"notes"})
IGNORED_PREFIX = "_"


@dataclass(frozen=True)
class Row:
    """One data row: `number` is the spreadsheet row (header = 1), `cells` header -> trimmed text."""

    file: str
    number: int
    cells: dict[str, str]

    def get(self, header: str) -> str:
        return self.cells.get(header, "")

    def problem(self, column: str, message: str, fix: str = "") -> SpecProblem:
        return SpecProblem(self.file, self.number, column, message, fix)


@dataclass
class CsvTable:
    """The readable rows of a file; `readable` is False when rows are missing for a file-level reason."""

    file: str
    rows: list[Row] = field(default_factory=list)
    readable: bool = True


def is_ignored_header(name: str) -> bool:
    """Headers for people, not for the pipeline: `notes` and anything starting with `_`."""
    return name in IGNORED_HEADERS or name.startswith(IGNORED_PREFIX)


def read_csv(
    path: Path,
    display: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    problems: list[SpecProblem],
) -> CsvTable:
    """Rows of `path`; problems are appended to `problems` with `display` as the file name."""
    table = CsvTable(display)
    header_hint = ",".join((*required, *optional))
    text = _read_text(path, display, header_hint, problems)
    if text is None:
        table.readable = False
        return table
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        header = next(reader, [])
        number = 1
        headers = _check_header(header, display, required, optional, problems)
        if headers is None:
            table.readable = False
            return table
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) < len(headers) and not set(headers[len(record) :]) & set(required):
                # Trailing optional cells may be left out (a row typed by hand): they are empty.
                record = [*record, *([""] * (len(headers) - len(record)))]
            if len(record) != len(headers):
                problems.append(_ragged(display, number, len(record), len(headers)))
                continue
            cells = {name: cell.strip() for name, cell in zip(headers, record, strict=True) if name}
            table.rows.append(Row(display, number, cells))
    except csv.Error as exc:
        problems.append(
            SpecProblem(
                display,
                number + 1,
                "",
                f"cannot read the CSV: {exc}",
                "close every quote; a cell holding a quote must be quoted with the quote doubled",
            )
        )
        table.readable = False
    log.debug("read %d rows from %s", len(table.rows), display)
    return table


def _read_text(path: Path, display: str, header_hint: str, problems: list[SpecProblem]) -> str | None:
    if not path.is_file():
        problems.append(
            SpecProblem(
                display, 0, "", "spec file is missing", f"create it with the header line: {header_hint}"
            )
        )
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            SpecProblem(
                display,
                line,
                "",
                f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                "save the file as UTF-8; in Excel choose CSV UTF-8",
            )
        )
        return None
    if not text.strip():
        problems.append(
            SpecProblem(
                display, 0, "", "spec file is empty", f"the first line must be the header: {header_hint}"
            )
        )
        return None
    return text


def _check_header(
    header: list[str],
    display: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    problems: list[SpecProblem],
) -> list[str] | None:
    """Normalized header names ("" for ignored ones), or None when a required one is missing."""
    known = (*required, *optional)
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(header, start=1):
        name = raw.strip().lower()
        if not name:
            problems.append(
                SpecProblem(
                    display, 1, "", f"header cell {position} is empty", "name the column or delete it"
                )
            )
            names.append("")
            continue
        if name in seen:
            problems.append(
                SpecProblem(display, 1, name, "header appears twice", "keep one column with this name")
            )
            names.append("")
            continue
        seen.add(name)
        if is_ignored_header(name):
            names.append("")
            continue
        if name not in known:
            close = close_matches(name, known)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(
                SpecProblem(
                    display,
                    1,
                    name,
                    f"unknown header {raw.strip()!r}",
                    f"{hint}known headers: {', '.join(known)}; name your own columns notes or start "
                    "them with _",
                )
            )
            names.append("")
            continue
        names.append(name)
    missing = [name for name in required if name not in seen]
    for name in missing:
        problems.append(
            SpecProblem(
                display, 1, name, "required header is missing", f"the header must name: {', '.join(required)}"
            )
        )
    return None if missing else names


def _ragged(display: str, number: int, cells: int, headers: int) -> SpecProblem:
    return SpecProblem(
        display,
        number,
        "",
        f"row has {cells} cells but the header has {headers}",
        'put quotes around a cell that contains a comma, e.g. "decimal(10,2)"',
    )
