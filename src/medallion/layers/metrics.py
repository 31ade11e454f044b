"""What a layer function reports about one table, and how a notebook hands it to the job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

__all__ = ["TableRun", "exit_value", "timed"]


@dataclass
class TableRun:
    """Counts for one table in one run. `status` is ok, skipped (nothing new) or failed."""

    layer: str
    table: str
    rows_read: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    status: str = "ok"
    details: dict[str, int | str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@contextmanager
def timed(run: TableRun) -> Iterator[TableRun]:
    """Fill `run.seconds` with the wall time of the block."""
    start = time.perf_counter()
    try:
        yield run
    finally:
        run.seconds = time.perf_counter() - start


def exit_value(runs: list[TableRun]) -> str:
    """The JSON a notebook passes to `dbutils.notebook.exit`; the job runner collects `tables`."""
    return json.dumps({"tables": [r.as_dict() for r in runs]})
