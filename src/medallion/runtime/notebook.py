"""Run Databricks source-format notebooks in this Python process.

The notebooks in the bundle are plain `.py` files in Databricks source format, so a local run
executes exactly the code a cluster would: every code cell, in order, in one namespace that
holds `spark`, `dbutils` and `display`. Cells are compiled with the file's own line numbers
under the name `<path> [cell N]`, so a traceback says which cell and which line of the file.
"""

from __future__ import annotations

import builtins
import linecache
import logging
import os
import re
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medallion.errors import MedallionError
from medallion.runtime.dbutils import NotebookExit, display

__all__ = ["Cell", "NotebookFormatError", "cell_location", "parse_notebook", "run_notebook"]

log = logging.getLogger(__name__)

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
_MAGIC = "# MAGIC"
_CELL_FILE = re.compile(r"^(?P<path>.*) \[cell (?P<cell>\d+)\]$")


class NotebookFormatError(MedallionError):
    """A notebook is not in Databricks source format or uses a magic that cannot run locally."""


@dataclass(frozen=True)
class Cell:
    """One cell; `kind` is code, md, pip, run or another magic name (sql, sh, ...)."""

    index: int  # 1-based, as the Databricks UI counts
    kind: str
    source: str  # for magic cells: the text after the magic command
    line: int  # 1-based line of the cell's first line in the file

    @property
    def is_code(self) -> bool:
        return self.kind == "code"


def parse_notebook(path: str | Path) -> list[Cell]:
    """The cells of a source-format notebook; blank cells are dropped but keep their number."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NotebookFormatError(f"{path}: cannot read the notebook: {exc.strerror or exc}") from None
    if not lines or lines[0].strip() != HEADER:
        raise NotebookFormatError(f"{path}: not a Databricks notebook (the first line must be {HEADER!r})")
    cells: list[Cell] = []
    start, number = 1, 0  # 0-based index of the current cell's first line; cells so far
    for i in range(1, len(lines) + 1):
        if i == len(lines) or lines[i].strip() == SEPARATOR:
            number += 1
            cell = _make_cell(lines[start:i], number, start + 1)
            if cell is not None:
                cells.append(cell)
            start = i + 1
    return cells


def run_notebook(
    path: str | Path,
    *,
    spark: Any,
    dbutils: Any,
    extra_globals: dict[str, Any] | None = None,
) -> str | None:
    """Execute the notebook's code cells; returns the `dbutils.notebook.exit` value or None."""
    path = Path(path).resolve()
    namespace: dict[str, Any] = {
        "__builtins__": builtins,
        "__name__": "__main__",
        "__file__": str(path),
        "spark": spark,
        "dbutils": dbutils,
        "display": display,
    }
    namespace.update(extra_globals or {})
    with _working_dir(path.parent):
        try:
            _run_cells(path, namespace, stack=())
        except NotebookExit as done:
            return done.value
    return None


def cell_location(exc: BaseException) -> str | None:
    """`<path> [cell N], line L` of the innermost notebook frame in the exception's traceback."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        match = _CELL_FILE.match(frame.filename)
        if match:
            found = f"{Path(match['path']).name} [cell {match['cell']}], line {frame.lineno}"
    return found


def _make_cell(lines: list[str], index: int, line: int) -> Cell | None:
    body = [text for text in lines if not text.startswith("# DBTITLE")]
    if not any(text.strip() for text in body):
        return None
    meaningful = [text for text in body if text.strip()]
    if all(text.startswith(_MAGIC) for text in meaningful):
        magic = [text[len(_MAGIC) :].removeprefix(" ") for text in body]
        first = next(i for i, text in enumerate(magic) if text.strip())
        command, _, rest = magic[first].strip().partition(" ")
        if command.startswith("%"):
            kind = command[1:].split("-", 1)[0]  # %md-sandbox is markdown too
            return Cell(index, kind, "\n".join([rest, *magic[first + 1 :]]).strip(), line)
    return Cell(index, "code", "\n".join(lines), line)


def _run_cells(path: Path, namespace: dict[str, Any], stack: tuple[Path, ...]) -> None:
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise NotebookFormatError(f"{path}: %run cycle: {chain}")
    for cell in parse_notebook(path):
        if cell.kind == "md":
            continue
        if cell.kind == "pip":  # every notebook installs the project on Databricks; the venv has it here
            log.debug(
                "%s [cell %d]: skipping %%pip %s (install packages in the virtualenv)",
                path.name,
                cell.index,
                cell.source,
            )
            continue
        if cell.kind == "restart_python":
            continue  # follows a %pip cell on Databricks; the local venv is already installed
        if cell.kind == "run":
            _run_cells(_run_target(path, cell), namespace, (*stack, path))
            continue
        if cell.kind != "code":
            raise NotebookFormatError(
                f"{path} [cell {cell.index}], line {cell.line}: magic %{cell.kind} cannot run locally "
                "(only %md, %pip, %restart_python and %run are supported; write the cell in Python)"
            )
        filename = f"{path} [cell {cell.index}]"
        source = "\n" * (cell.line - 1) + cell.source + "\n"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)


def _run_target(path: Path, cell: Cell) -> Path:
    """The notebook a `%run ./other` cell names, relative to the notebook that runs it."""
    target = cell.source.split()[0] if cell.source.split() else ""
    if not target:
        raise NotebookFormatError(f"{path} [cell {cell.index}]: %run needs a notebook path")
    other = (path.parent / target.strip("\"'")).resolve()
    if other.suffix != ".py":
        other = other.with_name(other.name + ".py")
    if not other.is_file():
        raise NotebookFormatError(f"{path} [cell {cell.index}]: %run {target}: no notebook at {other}")
    return other


_cwd_lock = threading.Lock()
_cwd_users: list[Path] = []  # the folders of the notebooks running now (all the same one)
_cwd_before: list[str] = []  # the cwd before the first of them


@contextmanager
def _working_dir(folder: Path) -> Iterator[None]:
    """The notebook's folder as cwd, as on Databricks. Notebooks running side by side (a for-each
    task's iterations) share the process's one cwd: the first sets it, the last restores it."""
    with _cwd_lock:
        if _cwd_users and _cwd_users[0] != folder:
            raise NotebookFormatError(
                f"{folder}: cannot run beside a notebook of {_cwd_users[0]} (one working folder per process)"
            )
        if not _cwd_users:
            _cwd_before[:] = [os.getcwd()]
            os.chdir(folder)
        _cwd_users.append(folder)
    try:
        yield
    finally:
        with _cwd_lock:
            _cwd_users.remove(folder)
            if not _cwd_users:
                os.chdir(_cwd_before.pop())
