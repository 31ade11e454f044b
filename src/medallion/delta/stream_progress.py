"""How far a table's stream has read its Delta source, kept next to the stream's checkpoint.

A run with nothing new must cost next to nothing, but starting an `availableNow` stream (and the
quality run it needs) takes seconds per table even when the stream then finds no data. After a
stream finishes, the source table's id and the version it had *before* the stream started are
written beside the checkpoint; a later run that finds the source still at that id and version knows
there is nothing to read without starting anything. The mark is conservative: the stream read at
least that version, and any other state (a newer version, a recreated source, a missing or unreadable
mark, a checkpoint on a store Python cannot open) simply runs the stream.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from medallion.delta.tables import current_version, table_exists

__all__ = ["MARK_FILE", "SourceState", "keeps_marks", "mark_read", "nothing_new", "source_state"]

log = logging.getLogger(__name__)

MARK_FILE = "_medallion_source.json"


@dataclass(frozen=True)
class SourceState:
    """A Delta table's identity and version (a recreated table has a new id, its versions restart)."""

    table_id: str
    version: int


def source_state(spark: SparkSession, name: str) -> SourceState | None:
    """The source table's id and current version, or None when it does not exist (yet)."""
    if not table_exists(spark, name):
        return None
    version = current_version(spark, name)
    if version is None:
        return None
    table_id = str(spark.sql(f"DESCRIBE DETAIL {name}").first()["id"])
    return SourceState(table_id, version)


def keeps_marks(checkpoint: str) -> bool:
    """True when a mark can be kept beside `checkpoint` (this machine or a volume): elsewhere looking
    up the source's state would cost a second a table for nothing."""
    return _mark_path(checkpoint) is not None


def nothing_new(checkpoint: str, state: SourceState | None) -> bool:
    """True when the stream at `checkpoint` has already read `state` of its source."""
    if state is None:
        return False
    path = _mark_path(checkpoint)
    if path is None or not path.is_file():
        return False
    try:
        return SourceState(**json.loads(path.read_text(encoding="utf-8"))) == state
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable stream mark %s (%s): the stream runs", path, exc)
        return False


def mark_read(checkpoint: str, state: SourceState | None) -> None:
    """Record that the stream at `checkpoint` has read its source up to `state` (atomic replace)."""
    path = _mark_path(checkpoint)
    if state is None or path is None or not path.parent.is_dir():
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mark-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(state), out)
    os.replace(tmp, path)


def _mark_path(checkpoint: str) -> Path | None:
    """The mark's local path: checkpoints on this machine or a mounted volume (/Volumes/...), else None."""
    location = checkpoint.removeprefix("file:")
    if "://" in location or not location.startswith("/"):
        return None
    return Path(location) / MARK_FILE
