"""One way to run a stream over new data: `availableNow` micro-batches into a Python function, with
the function's own errors coming out as themselves (the streaming layer wraps them otherwise)."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame

from medallion.errors import MedallionError

__all__ = ["run_batches"]


def run_batches(
    frame: DataFrame, handle: Callable[[DataFrame, int], None], checkpoint: str, name: str
) -> None:
    """Run `handle(batch, batch_id)` on each micro-batch of the streaming `frame` until it has caught up."""
    failure: list[BaseException] = []

    def process(batch: DataFrame, batch_id: int) -> None:
        try:
            handle(batch, batch_id)
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
