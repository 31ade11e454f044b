"""Property tests: the real silver path (`process_batch` on Delta) agrees with the reference model.

Hypothesis draws a change stream and a split into at most three batches (tests/scd/strategies.py),
each batch goes through `medallion.layers.silver_batch.process_batch` as bronze rows, and the silver table,
its change log, its quarantine and the per-batch counts are compared with tests/scd/model.py.

Slow (a Spark job per batch), so few examples by default: `SCD_EXAMPLES=200 pytest tests/scd` for a
longer hunt. A failure shrinks to a stream of `ev(...)` calls that pastes into tests/scd/test_model.py.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest
from chispa import assert_df_equality
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from model import STALE_SNAPSHOT, History, run, run_snapshots
from strategies import LAYOUT, Event, change_streams, features, snapshot_streams

from medallion.context import RunContext
from medallion.layers.silver import ensure_table
from medallion.layers.silver_batch import process_batch
from medallion.quality.checks import start_quality_run
from medallion.specs.model import ColumnSpec, ScdSpec, SilverSpec

pytestmark = pytest.mark.spark

EXAMPLES = settings(
    max_examples=int(os.environ.get("SCD_EXAMPLES", "2")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BRONZE = "k string, seq string, a string, b string, u string, op string, _source_file string, _ingested_at timestamp"
SILVER_TYPES = {"k": "string", "seq": "int", "a": "string", "b": "string", "u": "string"}
LINEAGE = ["_source_file", "_ingested_at"]
CONTENT = list(SILVER_TYPES)


def silver_table(scd_type: int, source_kind: str = "changes") -> SilverSpec:
    """dim_x: key k, sequence seq (an int in silver, a string in bronze), tracked a and b,
    untracked u; `op = 'D'` marks a delete."""
    return SilverSpec(
        table="dim_x",
        source_table="x",
        load_pattern=f"scd{scd_type}",
        keys=LAYOUT.keys,
        sequence_by=LAYOUT.sequence,
        delete_when="op = 'D'" if source_kind == "changes" else "",
        columns=tuple(ColumnSpec("silver", "dim_x", name, dtype) for name, dtype in SILVER_TYPES.items()),
        scd=ScdSpec(
            scd_type=scd_type,
            source_kind=source_kind,
            tracked_columns=LAYOUT.tracked,
            untracked_columns=LAYOUT.untracked,
        ),
        spec_file="scd_mappings.csv",
    )


class Engine:
    """One silver table in a fresh schema, fed batch by batch through `process_batch`."""

    def __init__(self, spark, table: SilverSpec):
        self.spark, self.table = spark, table
        self.schema = f"scd_prop_{uuid.uuid4().hex[:12]}"
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `spark_catalog`.`{self.schema}`")
        self.ctx = RunContext(
            target="test",
            catalog="spark_catalog",
            bronze_schema=self.schema,
            silver_schema=self.schema,
            gold_schema=self.schema,
            landing_root="/nonexistent",
            checkpoint_root="/nonexistent",
            specs_dir="/nonexistent",
        )
        self.bronze_schema = spark.createDataFrame([], BRONZE).schema
        self.target = ensure_table(spark, table, self.ctx, source_schema=self.bronze_schema)
        self.counts: list[dict[str, int]] = []

    def close(self) -> None:
        self.spark.sql(f"DROP SCHEMA IF EXISTS `spark_catalog`.`{self.schema}` CASCADE")

    def bronze(self, rows: list[dict], batch_id: int):
        when = datetime(2024, 1, 1) + timedelta(minutes=batch_id)
        data = [
            (
                r["k"],
                None if r["seq"] is None else str(r["seq"]),
                r["a"],
                r["b"],
                r["u"],
                "D" if r.get("is_delete") else "U",
                f"batch{batch_id}.csv",
                when,
            )
            for r in rows
        ]
        return self.spark.createDataFrame(data, self.bronze_schema)

    def apply(self, rows: list[dict], batch_id: int) -> dict[str, int]:
        quality = start_quality_run(self.spark, self.table, f"batch-{batch_id}", self.target.neighbour)
        return process_batch(
            self.spark, self.bronze(rows, batch_id), batch_id, self.table, self.target, quality
        )

    def run(self, batches: list[list[dict]]) -> list[dict[str, int] | None]:
        """Every non-empty batch, with consecutive batch ids; counts per batch (None: skipped)."""
        out, batch_id = [], 0
        for batch in batches:
            if batch:
                out.append(self.apply(batch, batch_id))
                batch_id += 1
            else:
                out.append(None)
        return out

    @property
    def name(self) -> str:
        return self.target.name

    def read(self, name: str):
        return self.spark.read.table(name)

    def has(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name.replace("`", ""))

    def quarantine(self) -> list[tuple]:
        if not self.has(self.target.quarantine):
            return []
        rows = self.read(self.target.quarantine).select(*CONTENT, "_quarantine_reason").collect()
        return sorted((tuple(r) for r in rows), key=repr)

    def changes(self) -> list[tuple]:
        rows = self.read(self.target.changes).select(*CONTENT, "_is_delete").collect()
        return sorted((tuple(r) for r in rows), key=repr)

    def state(self) -> dict:
        """Everything a batch can change: the three tables' rows and Delta versions."""
        from medallion.delta.tables import current_version

        names = [self.name, self.target.changes, self.target.quarantine]
        return {
            name: (sorted(map(repr, self.read(name).collect())), current_version(self.spark, name))
            for name in names
            if self.has(name)
        }


@pytest.fixture
def engine_factory(spark):
    made: list[Engine] = []

    def make(table: SilverSpec) -> Engine:
        made.append(Engine(spark, table))
        return made[-1]

    yield make
    for engine in made:
        engine.close()


def expected_frame(spark, history: History, scd_type: int):
    if scd_type == 2:
        rows = [
            (*(r[c] for c in CONTENT), r["effective_from"], r["effective_to"], r["is_current"])
            for r in history.scd2()
        ]
        schema = ", ".join(f"{c} {t}" for c, t in SILVER_TYPES.items())
        schema += ", effective_from int, effective_to int, is_current boolean"
    else:
        rows = [tuple(r[c] for c in CONTENT) for r in history.scd1()]
        schema = ", ".join(f"{c} {t}" for c, t in SILVER_TYPES.items())
    return spark.createDataFrame(rows, schema)


def _reason(reason: str) -> str:
    """The engine names the newest applied snapshot after the documented reason: compare the reason."""
    return STALE_SNAPSHOT if reason.startswith(STALE_SNAPSHOT) else reason


def check_against_model(spark, engine: Engine, history: History, counts, scd_type: int) -> None:
    actual = engine.read(engine.name)
    assert_df_equality(
        actual,
        expected_frame(spark, history, scd_type),
        ignore_row_order=True,
        ignore_column_order=True,
        ignore_nullable=True,
        ignore_columns=LINEAGE,
    )
    expected_changes = sorted(
        ((*tuple(e[c] for c in CONTENT), bool(e["is_delete"])) for e in history.changes), key=repr
    )
    assert engine.changes() == expected_changes, "change log"
    got = [(*row[:-1], _reason(row[-1])) for row in engine.quarantine()]
    want = [(*(r[c] for c in CONTENT), reason) for r, reason in history.quarantine]
    assert sorted(got, key=repr) == sorted(want, key=repr), "quarantine rows and reasons"
    for outcome, batch_counts in zip(history.batches, counts, strict=True):
        if batch_counts is None:
            continue
        got_counts = {k: batch_counts.get(k, 0) for k in ("duplicates", "quarantined")}
        want_counts = {"duplicates": outcome.duplicates, "quarantined": len(outcome.quarantined)}
        assert got_counts == want_counts, f"counts per batch: {counts}"


def _explain(batches) -> None:
    note(f"batches = {batches!r}")
    note(f"covers: {sorted(features(batches))}")


# Keys named as literals (few keys, replaceWhere) and joined with (many keys, MERGE): each SCD type
# meets each path in one of the two tests.
KEY_PATHS = [(2, "literals"), (1, "join")]
SNAPSHOT_KEY_PATHS = [(2, "join"), (1, "literals")]


def _keys_path(monkeypatch, path: str) -> None:
    if path == "join":
        monkeypatch.setattr("medallion.delta.key_predicates.MAX_LITERAL_KEYS", 0)


@pytest.mark.parametrize(("scd_type", "keys_path"), KEY_PATHS)
@EXAMPLES
@given(batches=change_streams())
def test_engine_matches_the_model(spark, engine_factory, monkeypatch, scd_type, keys_path, batches):
    _keys_path(monkeypatch, keys_path)
    _explain(batches)
    history = run(batches, LAYOUT)
    engine = engine_factory(silver_table(scd_type))
    counts = engine.run(batches)
    note(f"counts per batch: {counts}")
    check_against_model(spark, engine, history, counts, scd_type)


@EXAMPLES
@given(batches=change_streams().filter(lambda b: any(b)), scd_type=st.sampled_from([2, 1]))
def test_replaying_the_last_batch_changes_nothing(engine_factory, batches, scd_type):
    _explain(batches)
    engine = engine_factory(silver_table(scd_type))
    engine.run(batches)
    last = [b for b in batches if b]
    before = engine.state()
    engine.apply(last[-1], len(last) - 1)  # the same rows under the same batch id: a replay
    assert engine.state() == before


def _snapshot(seq: int, a: str) -> list[Event]:
    return [Event(k="k1", seq=seq, a=a, b=None, u=None)]


@pytest.mark.parametrize(("scd_type", "keys_path"), SNAPSHOT_KEY_PATHS)
@EXAMPLES
@given(batches=snapshot_streams())
# The snapshot at 3 changes nothing, yet it is applied: the one at 2, arriving after it, is older.
@example(batches=[_snapshot(1, "x"), _snapshot(3, "x"), _snapshot(2, "y")])
def test_engine_matches_the_model_for_snapshots(
    spark, engine_factory, monkeypatch, scd_type, keys_path, batches
):
    _keys_path(monkeypatch, keys_path)
    note(f"batches = {batches!r}")
    history = run_snapshots(batches, LAYOUT)
    engine = engine_factory(silver_table(scd_type, source_kind="snapshot"))
    counts = engine.run(batches)
    note(f"counts per batch: {counts}")
    check_against_model(spark, engine, history, counts, scd_type)
