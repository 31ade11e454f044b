"""One way to run a stream over new data: `availableNow` micro-batches into a Python function, with
the function's own errors coming out as themselves (the streaming layer wraps them otherwise), and
what each batch read of a Delta source (the lineage of what the batches wrote)."""

from __future__ import annotations

import ast
import contextvars
import json
from collections.abc import Callable
from typing import Any

from pyspark.sql import DataFrame

from medallion.errors import MedallionError

__all__ = ["delta_source_range", "run_batches"]

_VERSION_END = 2**62  # an offset index past this means the whole version was read (Delta's END_INDEX)


def run_batches(
    frame: DataFrame, handle: Callable[[DataFrame, int], None], checkpoint: str, name: str
) -> dict[int, tuple[Any, Any]]:
    """Run `handle(batch, batch_id)` on each micro-batch of the streaming `frame` until it has caught up;
    returns each batch's (start, end) offsets of its first source (None for a start from the beginning)."""
    failure: list[BaseException] = []
    # Callbacks run on Spark's callback thread: in the starter's context (its log fields, say).
    context = contextvars.copy_context()

    def process(batch: DataFrame, batch_id: int) -> None:
        try:
            context.run(handle, batch, batch_id)
        except BaseException as exc:  # kept: the stream reports it as a StreamingQueryException
            failure.append(exc)
            raise

    query = (
        frame.writeStream.foreachBatch(process)
        .option("checkpointLocation", checkpoint)
        .queryName(name)
        .trigger(availableNow=True)
        .start()
    )
    try:
        query.awaitTermination()
    except Exception:
        if failure and isinstance(failure[0], MedallionError):
            raise failure[0] from None
        raise
    offsets = {}
    for progress in query.recentProgress:
        found = json.loads(progress.json) if hasattr(progress, "json") else progress
        sources = found.get("sources") or [{}]
        offsets[int(found["batchId"])] = (
            _offset(sources[0].get("startOffset")),
            _offset(sources[0].get("endOffset")),
        )
    return offsets


def _offset(value: Any) -> Any:
    """An offset as a dict where it is one (PySpark gives a JSON text, or a dict's Python text)."""
    if not isinstance(value, str):
        return value
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(value)
        except (ValueError, SyntaxError):
            continue
    return value


def delta_source_range(start: Any, end: Any) -> tuple[int, int] | None:
    """The Delta source versions a batch read, inclusive, from its start and end offsets; None when
    they are not a Delta source's or the batch read nothing.

    An offset names a version and an index into its files: -1 is before the version's first file, an
    index past the last one is after it; a starting snapshot (isStartingVersion) holds every version
    up to its own."""
    if not isinstance(end, dict) or "reservoirVersion" not in end:
        return None
    last = int(end["reservoirVersion"])
    if int(end.get("index", -1)) == -1 and not end.get("isStartingVersion"):
        last -= 1  # nothing of `reservoirVersion` itself was read yet
    if not isinstance(start, dict) or start.get("isStartingVersion"):
        first = 0
    else:
        first = int(start["reservoirVersion"]) + (1 if int(start.get("index", -1)) >= _VERSION_END else 0)
    return (first, last) if first <= last and start != end else None
