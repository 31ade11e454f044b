"""A pure-Python reference model of the SCD semantics in docs/scd.md ("Semantics").

Written for obviousness, not speed: each batch goes through steps 1-4 row by row, and the SCD2 /
SCD1 tables are computed from scratch from the accepted events, walking each key's events in
sequence order. The property tests in this folder compare the Spark + Delta engine with it.

Rows are plain dicts: the key, sequence, tracked and untracked columns (a `Layout` names them), the
delete flag (`is_delete`) and optionally the lineage columns. Comparison is Python `==` on values,
which is NULL-safe (None == None).

Cases docs/scd.md leaves open raise `Unspecified` rather than guess, so a generator can avoid them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

__all__ = [
    "CONFLICT",
    "LINEAGE",
    "STALE_SNAPSHOT",
    "TIE",
    "BatchOutcome",
    "History",
    "Layout",
    "Unspecified",
    "null_reason",
    "run",
    "run_snapshots",
]

LINEAGE = ("_source_file", "_ingested_at")
DELETE = "is_delete"

TIE = "different rows share this key and sequence"
CONFLICT = "conflicts with an accepted change at this key and sequence"
STALE_SNAPSHOT = "snapshot older than the latest applied snapshot"


class Unspecified(Exception):
    """docs/scd.md does not say what happens here."""


@dataclass(frozen=True)
class Layout:
    """Which columns of an event play which role."""

    keys: tuple[str, ...] = ("k",)
    sequence: tuple[str, ...] = ("seq",)
    tracked: tuple[str, ...] = ("a", "b")
    untracked: tuple[str, ...] = ("u",)
    effective_from: str = "effective_from"
    effective_to: str = "effective_to"
    is_current: str = "is_current"

    @property
    def content(self) -> tuple[str, ...]:
        """Every spec'd column: what makes two rows the same row (lineage aside)."""
        return (*self.keys, *self.sequence, *self.tracked, *self.untracked)

    def key(self, row: dict) -> tuple:
        return tuple(row.get(c) for c in self.keys)

    def seq(self, row: dict) -> tuple:
        return tuple(row.get(c) for c in self.sequence)

    def tracked_values(self, row: dict) -> tuple:
        return tuple(row.get(c) for c in self.tracked)

    def values(self, row: dict) -> tuple:
        """Tracked and untracked values: what a snapshot compares."""
        return tuple(row.get(c) for c in (*self.tracked, *self.untracked))

    def identity(self, row: dict) -> tuple:
        """Step 2's 'same key, sequence, delete flag and values'."""
        return (*(row.get(c) for c in self.content), bool(row.get(DELETE, False)))


def is_delete(row: dict) -> bool:
    return bool(row.get(DELETE, False))


def null_reason(row: dict, layout: Layout) -> str | None:
    """Step 1: the quarantine reason of a row with a NULL key or sequence column, else None.

    The engine's built-in data-quality rules name each failure `<column>_is_null`."""
    missing = [f"{c}_is_null" for c in (*layout.keys, *layout.sequence) if row.get(c) is None]
    return "rules: " + ", ".join(missing) if missing else None


@dataclass
class BatchOutcome:
    accepted: list[dict] = field(default_factory=list)
    quarantined: list[tuple[dict, str]] = field(default_factory=list)  # (row, reason)
    duplicates: int = 0


@dataclass
class History:
    """Everything the model derives from a sequence of batches."""

    layout: Layout
    batches: list[BatchOutcome] = field(default_factory=list)

    @property
    def changes(self) -> list[dict]:
        """The change log: every accepted event, in acceptance order."""
        return [row for b in self.batches for row in b.accepted]

    @property
    def quarantine(self) -> list[tuple[dict, str]]:
        return [q for b in self.batches for q in b.quarantined]

    @property
    def duplicates(self) -> int:
        return sum(b.duplicates for b in self.batches)

    def scd2(self) -> list[dict]:
        return scd2_rows(self.changes, self.layout)

    def scd1(self) -> list[dict]:
        return scd1_rows(self.changes, self.layout)


# --- steps 1-4 -------------------------------------------------------------------------------


def run(batches: list[list[dict]], layout: Layout) -> History:
    """Process change-event batches in arrival order (steps 1-4 of docs/scd.md)."""
    history = History(layout)
    for batch in batches:
        history.batches.append(_accept(batch, history.changes, layout))
    return history


def _accept(batch: list[dict], accepted: list[dict], layout: Layout) -> BatchOutcome:
    out = BatchOutcome()
    accepted_identities = {layout.identity(e) for e in accepted}
    accepted_positions = {(layout.key(e), layout.seq(e)) for e in accepted}

    # 1. NULL key or sequence column
    candidates = []
    for row in batch:
        reason = null_reason(row, layout)
        if reason:
            out.quarantined.append((row, reason))
        else:
            candidates.append(row)

    # 2. exact duplicates of a row earlier in this batch or of an accepted event
    unique: list[dict] = []
    seen: set[tuple] = set()
    for row in candidates:
        identity = layout.identity(row)
        if identity in seen or identity in accepted_identities:
            out.duplicates += 1
        else:
            seen.add(identity)
            unique.append(row)

    # 3. a different row at an accepted key and sequence: the accepted one stays (checked first:
    #    docs/scd.md does not say which reason wins when both apply; there is a winner already)
    #    no winner between different rows at one key and sequence in the batch
    at_position: dict[tuple, list[dict]] = defaultdict(list)
    for row in unique:
        at_position[(layout.key(row), layout.seq(row))].append(row)
    for row in unique:
        position = (layout.key(row), layout.seq(row))
        if position in accepted_positions:
            out.quarantined.append((row, CONFLICT))
        elif len(at_position[position]) > 1:
            out.quarantined.append((row, TIE))
        else:
            # 4. accepted
            out.accepted.append(row)
    return out


# --- the tables, from the accepted events ----------------------------------------------------


def _by_key(events: list[dict], layout: Layout) -> dict[tuple, list[dict]]:
    """Each key's events, sorted by sequence (accepted events never share a key and sequence)."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for event in events:
        grouped[layout.key(event)].append(event)
    for key_events in grouped.values():
        key_events.sort(key=layout.seq)
        positions = [layout.seq(e) for e in key_events]
        assert len(positions) == len(set(positions)), "two accepted events share a key and sequence"
    return grouped


def _row(event: dict, layout: Layout) -> dict:
    """The table columns an event carries: content and lineage (no delete flag)."""
    return {c: event.get(c) for c in (*layout.content, *LINEAGE)}


def scd2_rows(events: list[dict], layout: Layout) -> list[dict]:
    rows = []
    for key_events in _by_key(events, layout).values():
        versions: list[list[int]] = []  # each version: the indexes of its events
        previous = None
        for i, event in enumerate(key_events):
            if not is_delete(event):
                starts = (
                    previous is None
                    or is_delete(previous)
                    or layout.tracked_values(event) != layout.tracked_values(previous)
                )
                if starts:
                    versions.append([i])
                else:
                    versions[-1].append(i)
            previous = event
        for version in versions:
            first, last = key_events[version[0]], key_events[version[-1]]
            after = version[-1] + 1
            following = key_events[after] if after < len(key_events) else None
            row = _row(last, layout)  # untracked, sequence and lineage from the last event
            row.update({c: first.get(c) for c in layout.tracked})  # shared by the version's events
            row[layout.effective_from] = first[layout.sequence[0]]
            row[layout.effective_to] = None if following is None else following[layout.sequence[0]]
            row[layout.is_current] = following is None
            rows.append(row)
    return rows


def scd1_rows(events: list[dict], layout: Layout) -> list[dict]:
    rows = []
    for key_events in _by_key(events, layout).values():
        latest = key_events[-1]
        if not is_delete(latest):
            rows.append(_row(latest, layout))
    return rows


# --- snapshot sources ------------------------------------------------------------------------


def run_snapshots(batches: list[list[dict]], layout: Layout) -> History:
    """Each batch holds one or more whole snapshots (rows sharing a sequence value).

    Within a batch the snapshots are applied in sequence order. Each row goes through steps 1-3
    within its snapshot (NULL key or sequence; exact copies collapse, not counted as duplicates since
    a snapshot row is not an event; different rows for one key are a tie); the survivors are compared with the state just before the snapshot: a new key or changed values
    is an upsert at the snapshot's sequence, a live key missing from it a delete (with no values and
    no lineage: there is no row). A snapshot older than the newest applied one is quarantined whole.
    Not in docs/scd.md, so `Unspecified`: a snapshot at the newest applied sequence.
    """
    history = History(layout)
    state: dict[tuple, dict] = {}  # live key -> its last upsert
    newest: tuple | None = None
    for batch in batches:
        out = BatchOutcome()
        snapshots: dict[tuple, list[dict]] = defaultdict(list)
        for row in batch:
            reason = null_reason(row, layout)
            if reason:
                out.quarantined.append((row, reason))
            else:
                snapshots[layout.seq(row)].append(row)
        for position in sorted(snapshots):
            rows = snapshots[position]
            if newest is not None and position < newest:
                out.quarantined.extend((row, STALE_SNAPSHOT) for row in rows)
                continue
            if newest is not None and position == newest:
                raise Unspecified("a snapshot at the sequence of the newest applied snapshot")
            newest = position
            by_key: dict[tuple, list[dict]] = defaultdict(list)
            seen: set[tuple] = set()
            for row in rows:
                if layout.identity(row) not in seen:
                    seen.add(layout.identity(row))
                    by_key[layout.key(row)].append(row)
            for key, key_rows in by_key.items():
                if len(key_rows) > 1:
                    out.quarantined.extend((row, TIE) for row in key_rows)
                    continue
                row = key_rows[0]
                if key not in state or layout.values(state[key]) != layout.values(row):
                    event = {**row, DELETE: False}
                    out.accepted.append(event)
                    state[key] = event
            present = {layout.key(row) for row in rows}  # a tied key is present, just not applied
            for key in [k for k in state if k not in present]:
                event = {c: None for c in layout.content}  # no row, so no values
                event.update(dict(zip(layout.keys, key, strict=True)))
                event.update(dict(zip(layout.sequence, position, strict=True)))
                event[DELETE] = True
                out.accepted.append(event)
                del state[key]
        history.batches.append(out)
    return history
