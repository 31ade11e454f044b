"""The generators reach every case of docs/scd.md, and the model agrees with itself on them. No Spark."""

from __future__ import annotations

from hypothesis import given, settings
from model import run, run_snapshots
from strategies import (
    FEATURES,
    LAYOUT,
    SNAPSHOT_FEATURES,
    change_streams,
    features,
    snapshot_features,
    snapshot_streams,
)


def test_change_streams_reach_every_case():
    seen: set[str] = set()

    @settings(max_examples=400, database=None, deadline=None, derandomize=True)
    @given(change_streams())
    def collect(batches):
        seen.update(features(batches))

    collect()
    assert set(FEATURES) - seen == set()


def test_snapshot_streams_reach_every_case():
    seen: set[str] = set()

    @settings(max_examples=400, database=None, deadline=None, derandomize=True)
    @given(snapshot_streams())
    def collect(batches):
        seen.update(snapshot_features(batches))

    collect()
    assert set(SNAPSHOT_FEATURES) - seen == set()


@settings(max_examples=300, deadline=None)
@given(change_streams())
def test_model_tables_depend_only_on_the_accepted_events(batches):
    history = run(batches, LAYOUT)
    again = run([history.changes[::-1]], LAYOUT)  # the same events, one batch, another order
    assert again.quarantine == [] and again.duplicates == 0
    key = repr
    assert sorted(map(key, again.scd2())) == sorted(map(key, history.scd2()))
    assert sorted(map(key, again.scd1())) == sorted(map(key, history.scd1()))


@settings(max_examples=300, deadline=None)
@given(change_streams())
def test_model_scd1_is_the_current_rows_of_scd2(batches):
    history = run(batches, LAYOUT)
    content = [*LAYOUT.content, "_source_file", "_ingested_at"]
    current = [{c: r[c] for c in content} for r in history.scd2() if r["is_current"]]
    assert sorted(map(repr, current)) == sorted(map(repr, history.scd1()))


@settings(max_examples=300, deadline=None)
@given(change_streams())
def test_model_every_row_is_accepted_quarantined_or_a_duplicate(batches):
    history = run(batches, LAYOUT)
    for batch, outcome in zip(batches, history.batches, strict=True):
        assert len(outcome.accepted) + len(outcome.quarantined) + outcome.duplicates == len(batch)


@settings(max_examples=200, deadline=None)
@given(snapshot_streams())
def test_model_snapshots_give_one_current_row_per_key_of_the_newest_snapshot(batches):
    history = run_snapshots(batches, LAYOUT)
    applied = sorted({e["seq"] for e in history.changes})
    if not applied:
        return
    newest = [r for b in batches for r in b if r["seq"] == applied[-1]]
    current = sorted((r["k"], r["a"], r["b"], r["u"]) for r in history.scd2() if r["is_current"])
    assert current == sorted((r["k"], r["a"], r["b"], r["u"]) for r in newest)
