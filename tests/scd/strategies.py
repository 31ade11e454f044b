"""Hypothesis strategies: random change streams that hit every case of docs/scd.md, split into batches.

Values are tiny so a shrunk example reads like a hand-written test: keys `k1`..`k3`, sequences 1..6,
two tracked columns `a`, `b` and one untracked `u` with values None / "x" / "y" (u: None / "p" / "q").
An event prints as the `ev(...)` call of tests/scd/test_model.py that builds it.

How a stream is built:
1. for each key, a chain of events at increasing sequences, each step a deliberate kind of change
   (new values, NULL -> value, value -> NULL, swap a/b, untracked only, same values, delete,
   re-insert after a delete);
2. extra rows: exact copies (duplicates), copies with one value or the delete flag changed at the
   same key and sequence (ties), rows with a NULL key or sequence;
3. a batch for each row (up to `max_batches`), a key's events in any order, newest first (late
   events) or deletes first (tombstones followed by older inserts); a random order in each batch.

`snapshot_streams` draws whole snapshots instead (see its docstring). `features` and
`snapshot_features` name the cases a stream exercises; tests/scd/test_strategies.py checks that the
generators reach all of them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import strategies as st
from model import CONFLICT, STALE_SNAPSHOT, TIE, Layout, run, run_snapshots

__all__ = [
    "FEATURES",
    "LAYOUT",
    "SNAPSHOT_FEATURES",
    "Event",
    "change_streams",
    "features",
    "snapshot_features",
    "snapshot_streams",
]

LAYOUT = Layout(keys=("k",), sequence=("seq",), tracked=("a", "b"), untracked=("u",))
KEYS = ("k1", "k2", "k3")
MAX_SEQ = 6
TRACKED_VALUES = (None, "x", "y")
UNTRACKED_VALUES = (None, "p", "q")

STEPS = ("change", "null", "fill", "swap", "swap", "untracked", "same", "delete", "delete")  # swaps and
# deletes twice: a swap of two equal values is no change, and deletes make tombstones and re-inserts


class Event(dict):
    """A change event; its repr is the `ev(...)` call of test_model.py that builds it."""

    def __repr__(self) -> str:
        args = [repr(self.get(c)) for c in ("k", "seq", "a", "b", "u")]
        return f"ev({', '.join(args)}{', d=True' if self.get('is_delete') else ''})"


def _event(k, seq, a, b, u, delete=False) -> Event:
    return Event(k=k, seq=seq, a=a, b=b, u=u, is_delete=delete)


@st.composite
def _key_chain(draw, key: str, ends_deleted: bool = False) -> list[Event]:
    """One key's events at distinct increasing sequences, each a chosen kind of change.

    `ends_deleted`: at least two events, the first an upsert and the last a delete.
    """
    seqs = sorted(draw(st.sets(st.integers(1, MAX_SEQ), min_size=1 + ends_deleted, max_size=4)))
    tracked = st.sampled_from(TRACKED_VALUES)
    untracked = st.sampled_from(UNTRACKED_VALUES)
    a, b, u = draw(tracked), draw(tracked), draw(untracked)
    events = []
    for i, seq in enumerate(seqs):
        if i == 0:
            step = draw(st.sampled_from(("change",) if ends_deleted else ("change", "delete")))
        elif ends_deleted and i == len(seqs) - 1:
            step = "delete"
        else:
            step = draw(st.sampled_from(STEPS))
        if step == "delete":
            # a delete carries either the last values or nothing; after it, the chain goes on from
            # the last values, so "same" after a delete re-inserts the old values
            carry = draw(st.booleans())
            events.append(_event(key, seq, *((a, b, u) if carry else (None, None, None)), delete=True))
            continue
        if step == "change":
            a, b, u = draw(tracked), draw(tracked), draw(untracked)
        elif step == "null":  # a value becomes NULL (or, when both are NULL already, stays)
            if draw(st.booleans()):
                a = None
            else:
                b = None
        elif step == "fill":  # NULL becomes a value
            if a is None:
                a = draw(st.sampled_from(TRACKED_VALUES[1:]))
            else:
                b = draw(st.sampled_from(TRACKED_VALUES[1:])) if b is None else b
        elif step == "swap":
            a, b = b, a
        elif step == "untracked":
            u = draw(st.sampled_from([v for v in UNTRACKED_VALUES if v != u]))
        events.append(_event(key, seq, a, b, u))
    return events


@st.composite
def _extras(draw, events: list[Event]) -> list[Event]:
    """Duplicates and ties of some events, and rows with a NULL key or sequence."""
    extra = []
    for _ in range(draw(st.integers(0, 3))):
        original = draw(st.sampled_from(events))
        kind = draw(st.sampled_from(("duplicate", "tie")))
        copy = Event(original)
        if kind == "tie":
            column = draw(st.sampled_from(("a", "b", "u", "is_delete")))
            if column == "is_delete":
                copy["is_delete"] = not copy["is_delete"]
            else:
                pool = UNTRACKED_VALUES if column == "u" else TRACKED_VALUES
                copy[column] = draw(st.sampled_from([v for v in pool if v != copy[column]]))
        extra.append(copy)
    for _ in range(draw(st.integers(0, 1))):
        row = Event(draw(st.sampled_from(events)))
        for column in draw(st.sampled_from((("k",), ("seq",), ("k", "seq")))):
            row[column] = None
        extra.append(row)
    return extra


def _split(draw, rows: list, max_batches: int) -> list[list]:
    """Cut rows, in their order, into 1..max_batches batches."""
    n_batches = draw(st.integers(1, max_batches))
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), min_size=n_batches - 1, max_size=n_batches - 1)))
    bounds = [0, *cuts, len(rows)]
    return [rows[start:end] for start, end in itertools.pairwise(bounds)]


@st.composite
def change_streams(draw, max_batches: int = 3, max_keys: int = 3) -> list[list[Event]]:
    """A change stream in arrival order, cut into 1..max_batches batches (a batch may be empty).

    Each event gets a batch; a key's events arrive in any order, newest first (late events) or
    deletes first (tombstones, then older inserts). Within a batch the order is random.
    """
    n_batches = draw(st.integers(1, max_batches))
    batch_of = st.integers(0, n_batches - 1)
    batches: list[list[Event]] = [[] for _ in range(n_batches)]
    events = []
    for key in KEYS[: draw(st.integers(1, max_keys))]:
        order = draw(st.sampled_from(("any", "newest first", "deletes first")))
        chain = draw(_key_chain(key, ends_deleted=order == "deletes first"))
        if order == "deletes first":  # the deletes in the first batch, the upserts after it
            later = st.integers(min(1, n_batches - 1), n_batches - 1)
            arrival = [0 if e["is_delete"] else draw(later) for e in chain]
        else:
            arrival = [draw(batch_of) for _ in chain]
            if order == "newest first":
                arrival.sort(reverse=True)
        for event, index in zip(chain, arrival, strict=True):
            batches[index].append(event)
        events += chain
    for event in draw(_extras(events)):
        batches[draw(batch_of)].append(event)
    return [list(draw(st.permutations(batch))) for batch in batches]


@st.composite
def snapshot_streams(draw, max_batches: int = 3) -> list[list[Event]]:
    """Whole snapshots at distinct sequences, cut into batches between snapshots.

    Each snapshot holds some of the keys, with values that often repeat the previous snapshot's, or
    repeats an earlier snapshot whole. They arrive in any order, newest first, or in order with one
    snapshot held back to the last batch while the one after it repeats the one before it (so the
    late one is older than an applied snapshot that changed nothing).
    """
    order = draw(st.sampled_from(("any", "newest first", "one held back")))
    held_back = order == "one held back" and max_batches >= 2
    seqs = sorted(
        draw(st.lists(st.integers(1, MAX_SEQ), min_size=1 + 2 * held_back, max_size=4, unique=True))
    )
    tracked = st.sampled_from(TRACKED_VALUES)
    untracked = st.sampled_from(UNTRACKED_VALUES)

    def copy(rows, seq):
        return [_event(r["k"], seq, r["a"], r["b"], r["u"]) for r in rows]

    state = {key: (None, None, None) for key in KEYS}
    snapshots: list[list[Event]] = []
    for seq in seqs:
        if snapshots and draw(st.booleans()):  # the same as an earlier snapshot
            snapshots.append(copy(draw(st.sampled_from(snapshots)), seq))
            continue
        rows = []
        for key in KEYS:
            if not draw(st.booleans()) and (rows or key != KEYS[-1]):
                continue  # absent: a delete if it was live (a snapshot has at least one row)
            if draw(st.booleans()):
                state[key] = (draw(tracked), draw(tracked), draw(untracked))
            rows.append(_event(key, seq, *state[key]))
        snapshots.append(rows)
    if held_back:
        held = draw(st.integers(1, len(snapshots) - 2))
        snapshots[held + 1] = copy(snapshots[held - 1], seqs[held + 1])
        rest = [s for i, s in enumerate(snapshots) if i != held]
        batches = [*_split(draw, rest, max_batches - 1), [snapshots[held]]]
    else:
        ordered = draw(st.permutations(snapshots)) if order == "any" else snapshots[::-1]
        batches = _split(draw, ordered, max_batches)
    return [[row for snapshot in batch for row in snapshot] for batch in batches]


# --- which cases a stream covers ------------------------------------------------------------

FEATURES = (
    "several keys",
    "several changes to one key in one batch",
    "late event",
    "delete",
    "insert after a delete",
    "tombstone, then an older insert",
    "NULL to value",
    "value to NULL",
    "swapped values",
    "untracked-only change",
    "duplicate in a batch",
    "duplicate of an accepted event",
    "tie in a batch",
    "tie across batches",
    "NULL key",
    "NULL sequence",
)


def features(batches: list[list[dict]], layout: Layout = LAYOUT) -> set[str]:
    """The cases of docs/scd.md a stream exercises (by the model's reading of it)."""
    found: set[str] = set()
    history = run(batches, layout)
    accepted_keys = {layout.key(e) for e in history.changes}
    if len(accepted_keys) > 1:
        found.add("several keys")
    for outcome in history.batches:
        per_key = defaultdict(set)
        for e in outcome.accepted:
            per_key[layout.key(e)].add(layout.seq(e))
        if any(len(s) > 1 for s in per_key.values()):
            found.add("several changes to one key in one batch")
    for row, reason in history.quarantine:
        if row.get("k") is None:
            found.add("NULL key")
        if row.get("seq") is None:
            found.add("NULL sequence")
        if reason == TIE:
            found.add("tie in a batch")
        if reason == CONFLICT:
            found.add("tie across batches")
    seen_identities: set[tuple] = set()
    for batch, outcome in zip(batches, history.batches, strict=True):
        identities = [
            layout.identity(r) for r in batch if layout.key(r)[0] is not None and r.get("seq") is not None
        ]
        if len(identities) > len(set(identities)):
            found.add("duplicate in a batch")
        if seen_identities & set(identities):
            found.add("duplicate of an accepted event")
        seen_identities |= {layout.identity(e) for e in outcome.accepted}

    # late events and tombstones: compare each accepted event with what its key had before its batch
    newest: dict[tuple, tuple] = {}
    first_delete: dict[tuple, tuple] = {}  # key -> sequence of a delete that arrived first for it
    for outcome in history.batches:
        for e in outcome.accepted:
            key, seq = layout.key(e), layout.seq(e)
            if key in newest and seq < newest[key]:
                found.add("late event")
            if key in first_delete and seq < first_delete[key] and not e["is_delete"]:
                found.add("tombstone, then an older insert")
        arrived = defaultdict(list)
        for e in outcome.accepted:
            arrived[layout.key(e)].append(e)
        for key, events in arrived.items():
            if key not in newest and all(e["is_delete"] for e in events):
                first_delete[key] = min(layout.seq(e) for e in events)
        for e in outcome.accepted:
            key = layout.key(e)
            newest[key] = max(newest.get(key, layout.seq(e)), layout.seq(e))

    # transitions between consecutive accepted events of a key
    by_key = defaultdict(list)
    for e in history.changes:
        by_key[layout.key(e)].append(e)
    for events in by_key.values():
        events.sort(key=layout.seq)
        for before, after in itertools.pairwise(events):
            if after["is_delete"]:
                found.add("delete")
                continue
            if before["is_delete"]:
                found.add("insert after a delete")
                continue
            tb, ta = layout.tracked_values(before), layout.tracked_values(after)
            if any(x is None and y is not None for x, y in zip(tb, ta, strict=True)):
                found.add("NULL to value")
            if any(x is not None and y is None for x, y in zip(tb, ta, strict=True)):
                found.add("value to NULL")
            if tb != ta and tb == ta[::-1]:
                found.add("swapped values")
            if tb == ta and before["u"] != after["u"]:
                found.add("untracked-only change")
    return found


SNAPSHOT_FEATURES = (
    "several snapshots in a batch",
    "new key",
    "changed values",
    "untracked-only change",
    "key missing: a delete",
    "key back after a delete",
    "snapshot without changes",
    "older snapshot quarantined",
    "older snapshot after one without changes",
)


def snapshot_features(batches: list[list[dict]], layout: Layout = LAYOUT) -> set[str]:
    """The snapshot cases a stream exercises (by the model's reading of it)."""
    found: set[str] = set()
    history = run_snapshots(batches, layout)
    if any(len({r["seq"] for r in batch}) > 1 for batch in batches):
        found.add("several snapshots in a batch")
    applied: list = []  # sequences of the snapshots applied so far, in order
    applied_by_batch: list[list] = []
    for batch, outcome in zip(batches, history.batches, strict=True):
        stale = {r["seq"] for r, reason in outcome.quarantined if reason == STALE_SNAPSHOT}
        if stale:
            found.add("older snapshot quarantined")
            logged = [e["seq"] for b in history.batches[: len(applied_by_batch)] for e in b.accepted]
            if max(stale) > max(logged, default=0):  # older than an applied snapshot, not than a logged event
                found.add("older snapshot after one without changes")
        applied_by_batch.append(sorted({r["seq"] for r in batch} - stale))
        applied += applied_by_batch[-1]
    logged = {e["seq"] for e in history.changes}
    if any(s not in logged for s in applied):
        found.add("snapshot without changes")
    by_key = defaultdict(list)
    for e in history.changes:
        by_key[layout.key(e)].append(e)
    for events in by_key.values():
        events.sort(key=layout.seq)
        if not events[0]["is_delete"]:
            found.add("new key")
        for before, after in itertools.pairwise(events):
            if after["is_delete"]:
                found.add("key missing: a delete")
            elif before["is_delete"]:
                found.add("key back after a delete")
            elif layout.tracked_values(before) != layout.tracked_values(after):
                found.add("changed values")
            else:
                found.add("untracked-only change")
    return found
