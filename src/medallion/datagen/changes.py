"""Change events of keyed rows in later drops, the way a change feed delivers them.

Per drop: deletes and updates of rows that were live before the drop, reinserts of keys deleted
in earlier drops, further changes of some updated keys within the drop, updates that repeat the
current values, and updates delivered one drop late (a newer change of the key arrives on time,
so the late one is older than what was already delivered).

Every event of a key is strictly later than the key's events before it, whichever drop delivers
it, so key and sequence stay unique. New random draws happen only for the settings in use, so an
entity without them gets the same rows as before they existed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from medallion.datagen.store import FIRST
from medallion.datagen.timeline import DAY, Slice, seasonal_times

if TYPE_CHECKING:
    from medallion.datagen.entities import EntityRuntime

__all__ = ["MAX_GAP", "ChangeFeed"]

MAX_GAP = 2 * DAY  # a repeated change follows the key's previous change by at most this long


def _some(rng: random.Random, expected: float) -> int:
    """A whole count with the given expectation (so small tables still see rare events)."""
    whole = int(expected)
    return whole + (rng.random() < expected - whole)


class ChangeFeed:
    """The change events of one entity, drop by drop, including late ones held for the next drop."""

    def __init__(self, rt: EntityRuntime):
        self.rt = rt
        self.e = rt.e
        self.pending: list[tuple[int, list]] = []  # (key index, row) of updates delivered next drop
        self.versions = rt.store is not None and rt.e.name in rt.world.referenced

    def drop(self, sl: Slice, last: bool) -> list[tuple[int, list]]:
        """This drop's change rows as (time, row) sorted by time; late rows get an arrival time."""
        rng, store = self.rt.rng, self.rt.store
        out: list[tuple[int, int, int, list]] = []  # (time, key index, tie-break, row)
        for i, row in self.pending:
            out.append((rng.randrange(sl.start, sl.end), i, len(out), row))
        self.pending = []
        if store is not None and (self.e.changes.update or self.e.changes.delete):
            self._plan(sl, last, out)
        out.sort(key=lambda item: item[:3])
        return [(t, row) for t, _, _, row in out]

    def _plan(self, sl: Slice, last: bool, out: list) -> None:
        rt, ch, store, rng = self.rt, self.e.changes, self.rt.store, self.rt.rng
        live = store.live_before(sl.start)
        deletes = rng.sample(live, min(len(live), round(ch.delete * len(live))))
        gone = set(deletes)
        candidates = [i for i in live if i not in gone and self.changeable(store.rows[i])]
        updates = rng.sample(candidates, min(len(candidates), round(ch.update * len(live))))
        back = sorted(store.gone) if ch.reinsert else []
        back = rng.sample(back, _some(rng, ch.reinsert * len(back))) if back else []
        repeat = set(rng.sample(updates, _some(rng, ch.repeat * len(updates)))) if ch.repeat else set()
        late = set()
        if ch.late and not last:
            late = set(rng.sample(updates, _some(rng, ch.late * len(updates))))
        store.versions.clear()
        for t, i in self._times(sl, deletes):
            row = list(store.rows[i])
            self.stamp(row, t, i + 1, "delete")
            store.rows[i] = None
            if ch.reinsert:
                store.gone[i] = row
            self._emit(out, t, i, row, "delete")
        for t, i in self._times(sl, updates):
            self._updates(sl, t, i, i in repeat, i in late, out)
        for t, i in self._times(sl, back):
            row = list(store.gone.pop(i))
            self.stamp(row, t, i + 1, "insert")
            store.rows[i] = row
            store.created[i] = t
            rt.counts["reinsert"] += 1
            self._emit(out, t, i, row, "insert")

    def _times(self, sl: Slice, keys: list[int]) -> zip:
        """(time, key) for each key: seasonal times in the drop, in random order over the keys."""
        times = seasonal_times(
            self.rt.rng, sl.first_day, sl.last_day, len(keys), self.rt.world.settings.calendar
        )
        return zip(times, keys, strict=True)

    def _updates(self, sl: Slice, t: int, i: int, repeat: bool, late: bool, out: list) -> None:
        """One or more updates of key `i` from time `t` on; with `late`, one but the last is held back."""
        ch, rng, store = self.e.changes, self.rt.rng, self.rt.store
        times = [t]
        extra = rng.randint(1, ch.repeat_max - 1) if repeat else 0
        for _ in range(max(extra, 1) if late else extra):
            span = sl.end - 1 - times[-1]
            if span < 1:
                break
            times.append(times[-1] + 1 + int(min(span - 1, MAX_GAP) * rng.random() ** 2))
        row, versions = store.rows[i], []
        for n, at in enumerate(times):
            if n and not self.changeable(row):
                break
            row = list(row)
            if not (ch.unchanged and rng.random() < ch.unchanged):
                self.update(row, i + 1, at)
            self.stamp(row, at, i + 1, "update")
            versions.append((at, row))
        if self.versions:
            store.versions[i] = (
                [FIRST] + [at for at, _ in versions],
                [store.rows[i]] + [r for _, r in versions],
            )
        store.rows[i] = row
        held = rng.randrange(len(versions) - 1) if late and len(versions) > 1 else -1
        for n, (at, version) in enumerate(versions):
            if n == held:
                self.pending.append((i, version))
                self.rt.counts["late"] += 1
                self.rt.counts["update"] += 1
            else:
                self._emit(out, at, i, version, "update")

    def _emit(self, out: list, t: int, i: int, row: list, op: str) -> None:
        self.rt.counts[op] += 1
        out.append((t, i, len(out), row))

    # --- one change -----------------------------------------------------------------------------

    def changeable(self, row: list) -> bool:
        rt = self.rt
        return any(p not in rt.transitions or row[p] in rt.transitions[p] for p in rt.update_pos)

    def update(self, row: list, serial: int, t: int) -> None:
        """Change one of the update columns: the next state of a transition, else a fresh value."""
        rt = self.rt
        pos = rt.rng.choice(
            [p for p in rt.update_pos if p not in rt.transitions or row[p] in rt.transitions[p]]
        )
        if pos in rt.transitions:
            row[pos] = rt.transitions[pos][row[pos]](rt.rng)
            return
        ctx = rt.ctx
        ctx.row, ctx.serial, ctx.parent, ctx.picked = row, serial, None, {}
        ctx.time = ctx.live_from = t
        old = row[pos]
        for _ in range(10):
            row[pos] = rt.gens[pos](ctx)
            if row[pos] != old:
                break

    def stamp(self, row: list, t: int, serial: int, op: str) -> None:
        """Set the sequence and operation columns of a change row."""
        rt = self.rt
        ctx = rt.ctx
        ctx.row, ctx.time, ctx.serial, ctx.op = row, t, serial, op
        for pos in (rt.seq_pos, rt.op_pos):
            if pos is not None:
                row[pos] = rt.gens[pos](ctx)
