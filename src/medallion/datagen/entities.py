"""One entity's rows, drop by drop: inserts merged in time order with (in later drops) change events.

Rows of an entity made per parent row are written right after their parent, so big entities are
streamed to disk and never held in memory; only stores of referenced or changing entities grow.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from medallion.datagen.anomalies import RESERVED, Injector, Profile, key_top
from medallion.datagen.changes import ChangeFeed
from medallion.datagen.checks import generation_order
from medallion.datagen.columns import RowCtx, build_column, transition_table
from medallion.datagen.settings import EntitySettings
from medallion.datagen.store import World
from medallion.datagen.timeline import Slice, seasonal_times
from medallion.datagen.writer import DropFile
from medallion.errors import ParameterError

__all__ = ["EntityRuntime", "file_name"]

log = logging.getLogger(__name__)


def file_name(e: EntitySettings, sl: Slice) -> str:
    """`<folder>/<entity>_<drop:04d>_<yyyymmdd>.<ext>`: sorts in drop order; the date is the drop's last day."""
    return f"{e.landing_folder}/{e.name}_{sl.number:04d}_{sl.last_day:%Y%m%d}.{e.format}"


class EntityRuntime:
    """Generators, counters and the open drop file of one entity."""

    def __init__(self, e: EntitySettings, world: World, root: Path, anomalies: tuple[int, date] | None):
        self.e = e
        self.world = world
        self.root = root
        self.rng = random.Random(f"{world.seed}:{e.name}")
        self.ctx = RowCtx(self.rng)
        self.width = len(e.columns)
        pos = world.positions[e.name]
        self.gens = {i: build_column(e.columns[i], world) for i in generation_order(e)}
        self.gen_list = list(self.gens.items())
        self.key_pos = pos.get(e.key) if e.key else None
        self.seq_pos = pos.get(e.sequence) if e.sequence else None
        self.op_pos = pos.get(e.operation) if e.operation else None
        self.update_pos = [pos[c] for c in e.update_columns]
        self.transitions = {pos[c]: transition_table(e.column(c).options) for c in e.update_columns}
        self.transitions = {k: v for k, v in self.transitions.items() if v}
        self.store = world.stores.get(e.name)
        self.children: list[EntityRuntime] = []
        self.key_limit = key_top(e.column(e.key).options) - 2 * RESERVED if e.key else None
        self.serial = 0
        self.initial = 0
        self.counts: Counter = Counter()
        self.files: list[tuple[Path, bool, int]] = []
        self.anomalies = []
        self._anomaly_cfg = anomalies
        self._anomaly_rng = random.Random(f"{world.seed}:anomalies:{e.name}")
        self._profile = Profile(e, world.settings, self.gens, anomalies[1]) if anomalies else None
        self._slice: Slice | None = None
        self._out: DropFile | None = None
        self._injector: Injector | None = None
        self._last: list | None = None
        self.feed = ChangeFeed(self)
        self.lead = 0  # seconds (<= 0) rows made from a row may come before it; see earliest_child

    # --- drop lifecycle -----------------------------------------------------------------------

    def begin_drop(self, sl: Slice, expected: int) -> None:
        self._slice, self._out, self._last = sl, None, None
        if self._anomaly_cfg:
            self._injector = Injector(self._profile, self._anomaly_rng, expected, self._anomaly_cfg[0])
        for child in self.children:
            child.begin_drop(sl, expected * child.e.rows.per_parent[0])

    def end_drop(self) -> None:
        for child in self.children:
            child.end_drop()
        if self._injector is not None:
            self._injector.finish(self._out, self._last)
            self.anomalies.extend(self._injector.found)
        if self._out is not None:
            changed = self._out.close()
            self.files.append((self._out.final, changed, self._out.lines))
        self._out = None

    def _write(self, row: list) -> None:
        out = self._out
        if out is None:
            out = self._out = DropFile(
                self.root, file_name(self.e, self._slice), self.e.format, self.e.column_names
            )
        out.write_row(row)
        self._last = row
        if self._injector is not None:
            self._injector.after_row(out, row)

    # --- top-level entities -------------------------------------------------------------------

    def run_drop(self, sl: Slice, rows: int, start: date, final: bool = True) -> None:
        """All rows of this entity (and its children) for one drop, merged in time order."""
        e, settings = self.e, self.world.settings
        if sl.number == 1:
            n_new = self.initial = e.rows.initial(rows)
        else:
            n_new = round(e.changes.new * self.initial)
        changes = self.feed.drop(sl, final) if sl.number > 1 else []
        if sl.number == 1 and e.time.history_days:
            first, last = start - timedelta(days=e.time.history_days), start - timedelta(days=1)
        else:
            first, last = sl.first_day, sl.last_day
        if self.key_limit is not None and self.serial + n_new >= self.key_limit:
            raise ParameterError(
                f"{e.name}: more rows than its key width allows; widen {e.key!r} in the settings"
            )
        times = seasonal_times(self.rng, first, last, n_new, settings.calendar, e.time.hour_weights)
        window = (min(times[0], sl.start) if times else sl.start, sl.end - 1)
        self.begin_drop(sl, n_new + len(changes))
        ci = 0
        for t in times:
            while ci < len(changes) and changes[ci][0] <= t:
                self._write(changes[ci][1])
                ci += 1
            self._insert(t, window)
        for _, row in changes[ci:]:
            self._write(row)
        self.end_drop()
        if self.store is not None:
            self.world.invalidate(e.name)
        log.debug("%s drop %d: %d new, %d changes", e.name, sl.number, n_new, len(changes))

    def _insert(
        self, t: int, window: tuple[int, int], parent: list | None = None, pserial: int = 0, idx: int = 0
    ):
        self.serial += 1
        ctx = self.ctx
        ctx.serial, ctx.time, ctx.parent, ctx.parent_serial, ctx.child_index = (
            self.serial,
            t,
            parent,
            pserial,
            idx,
        )
        ctx.live_from = max(window[0], t + self.lead) if self.lead else t
        ctx.op = "insert"
        ctx.picked.clear()
        row = [None] * self.width
        ctx.row = row
        for i, gen in self.gen_list:
            row[i] = gen(ctx)
        if self.store is not None:
            self.store.add(row, t, 1.0 - self.rng.random())
        self.counts["insert"] += 1
        self._write(row)
        for child in self.children:
            child._spawn(row, self.serial, t, window)

    def earliest_child(self) -> int:
        """How many seconds (<= 0) rows made from one row, at any depth, may be dated before it."""
        lead = 0
        for child in self.children:
            lead = min(lead, child.e.time.parent_offset_minutes[0] * 60 + child.earliest_child())
        return lead

    # --- rows made per parent row -------------------------------------------------------------

    def _spawn(self, parent: list, pserial: int, ptime: int, window: tuple[int, int]) -> None:
        low, high = self.e.rows.per_parent
        rng = self.rng
        weights = self.e.rows.weights
        if weights:
            count = low + rng.choices(range(len(weights)), cum_weights=self._cum(weights))[0]
        else:
            count = rng.randint(low, high)
        a, b = self.e.time.parent_offset_minutes
        lo, hi = window
        times = sorted(min(hi, max(lo, ptime + rng.randint(a * 60, b * 60))) for _ in range(count))
        for idx, t in enumerate(times, 1):
            self._insert(t, window, parent, pserial, idx)

    def _cum(self, weights: tuple[float, ...]) -> list[float]:
        cum = getattr(self, "_cum_cache", None)
        if cum is None:
            cum = self._cum_cache = list(accumulate(weights))
        return cum
