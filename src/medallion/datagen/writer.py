"""Landing files written the way a source system drops them, without touching unchanged files.

Each file is written to a hidden temp folder first and only moved into the landing folder when
its bytes differ from what is already there: a re-run with the same arguments keeps every
mtime, so a file-stream ingest sees nothing new, and a reader never sees a half-written file.
"""

from __future__ import annotations

import csv
import filecmp
import json
import logging
import os
from pathlib import Path

__all__ = ["TMP_DIR", "DropFile", "publish_text", "to_json_line"]

log = logging.getLogger(__name__)

TMP_DIR = ".datagen-tmp"  # leading dot: Spark and Auto Loader skip it


def to_json_line(names: tuple[str, ...], row: list) -> str:
    """One JSON object per line, keys sorted, so equal rows give equal bytes."""
    return json.dumps(dict(zip(names, row, strict=True)), sort_keys=True, ensure_ascii=False)


class DropFile:
    """One landing file: counts lines (1-based, a CSV header is line 1) for the anomaly manifest."""

    def __init__(self, root: Path, relative: str, fmt: str, names: tuple[str, ...]):
        self.root = root
        self.relative = relative
        self.final = root / relative
        self.tmp = root / TMP_DIR / relative.replace("/", "__")
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self.names = names
        self.fmt = fmt
        self.lines = 0
        self.rows = 0
        self._fh = open(self.tmp, "w", encoding="utf-8", newline="", buffering=1 << 20)  # noqa: SIM115
        if fmt == "csv":
            self._csv = csv.writer(self._fh, lineterminator="\n")
            self._csv.writerow(names)
            self.lines = 1

    def write_row(self, row: list) -> int:
        """Write a row; returns its line number."""
        if self.fmt == "csv":
            self._csv.writerow(row)
        else:
            self._fh.write(to_json_line(self.names, row))
            self._fh.write("\n")
        self.lines += 1
        self.rows += 1
        return self.lines

    def write_text(self, text: str) -> int:
        """Write a raw line (e.g. deliberately broken JSON); returns its line number."""
        self._fh.write(text)
        self._fh.write("\n")
        self.lines += 1
        return self.lines

    def close(self) -> bool:
        """Publish the file; returns True when its bytes changed (or it is new)."""
        self._fh.close()
        return _publish(self.tmp, self.final)


def _publish(tmp: Path, final: Path) -> bool:
    if (
        final.is_file()
        and final.stat().st_size == tmp.stat().st_size
        and filecmp.cmp(tmp, final, shallow=False)
    ):
        tmp.unlink()
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    log.debug("wrote %s", final)
    return True


def publish_text(root: Path, relative: str, text: str) -> bool:
    """Write a small text file the same way (only when its bytes change)."""
    tmp = root / TMP_DIR / relative.replace("/", "__")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8", newline="")
    return _publish(tmp, root / relative)
