"""Lineage: which landing files fed each bronze version, which bronze versions each silver version,
which silver versions each gold version (the `lineage` table of the ops schema).

A row says: version `version` of `table` took in what `upstream` (a landing file, or `layer.table`)
held in its versions `upstream_from`..`upstream_to`. Tables are cumulative, so a version holds all
that its earlier versions took in: `trace` walks from any version down to the landing files.

Bronze and silver commits carry their micro-batch id (`run_marks.batch_marked`); after a stream,
`versions_by_batch` reads them back from the Delta history to pair each batch's input with the
versions it wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from delta.tables import DeltaTable

from medallion.delta.literal_rows import literal_frame
from medallion.delta.run_marks import commit_batch, commit_run_id
from medallion.delta.tables import current_version, table_exists
from medallion.names import LINEAGE_TABLE, LINEAGE_VIEW, OPERATIONS_TABLE, OPS, RECORD_TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from medallion.context import RunContext

__all__ = [
    "LineageEdge",
    "Trace",
    "batch_commits",
    "describe",
    "edges_by_batch",
    "lineage_rows",
    "trace",
    "versions_by_batch",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineageEdge:
    """Version `version` of a table took in `upstream` (versions `first`..`last`; None for a file)."""

    version: int
    upstream: str
    first: int | None = None
    last: int | None = None


def versions_by_batch(spark: SparkSession, name: str, batches: set[int], run_id: str) -> dict[int, list[int]]:
    """The versions of `name` that the micro-batches `batches` of run `run_id` committed."""
    found = batch_commits(spark, name, batches, run_id)
    return {batch: [int(c["version"]) for c in commits] for batch, commits in found.items()}


def batch_commits(spark: SparkSession, name: str, batches: set[int], run_id: str) -> dict[int, list[dict]]:
    """The commits (rows of DESCRIBE HISTORY) of `name` that the micro-batches `batches` of run
    `run_id` made.

    Read from the newest commits back (a stream's batch ids only grow, so they are the newest), in
    one history read for the usual run of a few batches."""
    if not batches:
        return {}
    depth, oldest = 2 * len(batches) + 2, min(batches)
    while True:
        commits = [r.asDict(recursive=True) for r in DeltaTable.forName(spark, name).history(depth).collect()]
        found: dict[int, list[dict]] = {}
        for commit in commits:
            batch = commit_batch(commit)
            if batch in batches and commit_run_id(commit) == run_id:
                found.setdefault(batch, []).append(commit)
        last = commits[-1] if commits else {}
        batch = commit_batch(last)
        if len(commits) < depth or batch is None or batch < oldest or commit_run_id(last) != run_id:
            return found  # reached a commit from before this run
        depth *= 2


def edges_by_batch(versions: dict[int, list[int]], inputs: dict[int, list[tuple]]) -> list[LineageEdge]:
    """Pair each batch's versions with its inputs: (upstream, first, last) tuples per batch."""
    return [
        LineageEdge(version, *upstream)
        for batch, written in sorted(versions.items())
        for version in sorted(written)
        for upstream in inputs.get(batch, ())
    ]


@dataclass
class Trace:
    """Where a table version came from: each table reached with the version it was read at, and the
    landing files at the bottom."""

    tables: dict[str, int] = field(default_factory=dict)  # layer.table -> version
    files: set[str] = field(default_factory=set)
    # (table, version, upstream, upstream version): None for a landing file
    edges: list[tuple[str, int, str, int | None]] = field(default_factory=list)


def trace(spark: SparkSession, ctx: RunContext, table: str, version: int | None = None) -> Trace:
    """Walk the lineage rows from `table` (`layer.name`) at `version` (default: its newest) down to the
    landing files. A gold version is read from the build it carries; a bronze or silver version
    holds everything its earlier versions took in."""
    found = Trace()
    rows = [r.asDict() for r in _lineage_frame(spark, ctx).collect()]
    pending = [(table.lower(), version)]
    while pending:
        label, at = pending.pop()
        layer, name = label.split(".", 1)
        full_name = ctx.table(layer, name)
        if at is None:
            at = current_version(spark, full_name)
        if at is None or found.tables.get(label, -1) >= at:
            continue
        found.tables[label] = at
        created, undone = _incarnation(spark, full_name, at)
        mine = [
            r
            for r in rows
            if r["table"] == label
            and r["version"] <= at
            and r["recorded_at"] >= created
            and not any(first <= r["version"] <= last for first, last in undone)
        ]
        if layer == "gold":  # a gold version is rebuilt from its upstream: only the last build counts
            last = max((r["version"] for r in mine), default=None)
            mine = [r for r in mine if r["version"] == last]
        upstream: dict[str, int | None] = {}
        for r in mine:
            if r["upstream_to"] is None:
                found.files.add(r["upstream"])
                upstream.setdefault(r["upstream"], None)
            else:
                upstream[r["upstream"]] = max(upstream.get(r["upstream"]) or -1, r["upstream_to"])
        for up, up_version in sorted(upstream.items()):
            found.edges.append((label, at, up, up_version))
            if up_version is not None:
                pending.append((up, up_version))
    return found


def _incarnation(spark: SparkSession, name: str, at: int) -> tuple[Any, list[tuple[int, int]]]:
    """When this incarnation of the table was created (rows of an earlier one share its versions), and
    the version ranges a RESTORE up to version `at` undid (a rollback: what they took in is gone)."""
    table = DeltaTable.forName(spark, name)
    created = table.detail().select("createdAt").first()[0]
    undone = []
    for row in table.history().where(f"operation = 'RESTORE' AND version <= {int(at)}").collect():
        restored_to = int((row["operationParameters"] or {}).get("version", row["version"]))
        undone.append((restored_to + 1, int(row["version"]) - 1))
    return (created.replace(microsecond=0) if created is not None else created), undone


def lineage_rows(spark: SparkSession, ctx: RunContext, table: str) -> dict[int, list[dict[str, Any]]]:
    """The lineage rows of `table` (`layer.name`) by version, for `medallion history`."""
    layer, name = table.split(".", 1)
    created, _ = _incarnation(spark, ctx.table(layer, name), -1)
    found: dict[int, list[dict[str, Any]]] = {}
    for row in _lineage_frame(spark, ctx).where(f"`table` = '{table.lower()}'").collect():
        if row["recorded_at"] < created:
            continue  # an earlier incarnation's (a full refresh recreated the table)
        found.setdefault(int(row["version"]), []).append(row.asDict())
    return found


def _lineage_frame(spark: SparkSession, ctx: RunContext) -> DataFrame:
    """One row per input of a version written (the `lineage` view's query, so it needs no view)."""
    run_log = ctx.table(OPS, OPERATIONS_TABLE)
    if not table_exists(spark, run_log):
        return literal_frame(spark, [], RECORD_TABLES[LINEAGE_TABLE])
    return spark.sql(LINEAGE_VIEW.format(run_log=run_log))


def describe(rows: list[dict[str, Any]]) -> str:
    """`bronze.orders@3-5` for a table's rows, `2 file(s): a.csv, b.csv` for landing files."""
    parts = sorted(_versions(r) for r in rows if r["upstream_to"] is not None)
    files = sorted({r["upstream"].rsplit("/", 1)[-1] for r in rows if r["upstream_to"] is None})
    if files:
        more = ", ..." if len(files) > 3 else ""
        parts.append(f"{len(files)} file(s): {', '.join(files[:3])}{more}")
    return "; ".join(parts)


def _versions(row: dict[str, Any]) -> str:
    first, last = row["upstream_from"], row["upstream_to"]
    return f"{row['upstream']}@{last}" if first in (None, last) else f"{row['upstream']}@{first}-{last}"
