"""Rows that later rows depend on: live keys to refer to, current versions to update or delete.

Only entities that are referenced, or change in later drops, are kept; children never are.
Rows are indexed by serial number (serial 1 at index 0); a deleted row becomes None.

A reference is point-in-time safe: it picks a key that is live from at or before the referring
row's time (and the times of rows made from it) to the end of the drop, and the version of the
key that is valid at the referring row's time.
"""

from __future__ import annotations

import logging
import random
from bisect import bisect, bisect_right
from dataclasses import dataclass
from itertools import accumulate

from faker import Faker

from medallion.datagen.settings import Settings
from medallion.errors import ParameterError

__all__ = ["FIRST", "EntityStore", "Pool", "World"]

log = logging.getLogger(__name__)

FIRST = -(2**62)  # the time of a key's version as it was before the current drop


class EntityStore:
    """Current version of every row of one entity, since when it is live, and its popularity draw."""

    def __init__(self) -> None:
        self.rows: list[list | None] = []
        self.created: list[int] = []  # when the row's current life began: its insert or reinsert
        self.popularity: list[float] = []  # u in (0, 1]; weight = u ** -skew, a Zipf-like tail
        self.gone: dict[int, list] = {}  # deleted rows that may come back: index -> the delete row
        self.versions: dict[int, tuple[list[int], list[list]]] = {}  # changed in this drop: times, rows

    def add(self, row: list, created: int, popularity: float) -> None:
        self.rows.append(row)
        self.created.append(created)
        self.popularity.append(popularity)

    def live_before(self, start: int) -> list[int]:
        """Indexes of rows that exist and were created (or reinserted) before `start`."""
        rows, created = self.rows, self.created
        return [i for i in range(len(rows)) if rows[i] is not None and created[i] < start]


@dataclass(frozen=True, slots=True)
class Pool:
    """Live rows of one entity in one drop, ordered by since when they are live, with weights."""

    rows: list[list]
    cum: list[float]  # cumulative popularity weights
    since: list[int]  # ascending
    versions: list[tuple[list[int], list[list]] | None] | None  # per row, if it changed in this drop


def _stable_faker(locale: str) -> Faker:
    """A faker whose word lists do not depend on PYTHONHASHSEED.

    Some locales build their lists from sets (e.g. it_IT cities), so a seeded faker would pick
    other values in another process; sorting every list of strings on this instance fixes that.
    """
    fake = Faker(locale)
    for factory in fake.factories:
        for provider in factory.get_providers():
            for name in dir(provider):
                if name.startswith("__"):
                    continue
                value = getattr(provider, name, None)
                if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                    setattr(provider, name, sorted(value))
    return fake


class World:
    """Shared state of one generation run: settings, stores, faker instances, reference pools."""

    def __init__(self, settings: Settings, seed: int, keep: set[str]):
        self.settings = settings
        self.seed = seed
        self.stores = {name: EntityStore() for name in sorted(keep)}
        self.positions = {e.name: {c.name: i for i, c in enumerate(e.columns)} for e in settings.entities}
        self.referenced = {
            c.options["entity"] for e in settings.entities for c in e.columns if c.kind == "reference"
        }
        self.drop_start = 0
        self._fakers: dict[str, Faker] = {}
        self._pools: dict[tuple[str, float], Pool] = {}

    def position(self, entity: str, column: str) -> int:
        return self.positions[entity][column]

    def faker(self, locale: str, seed: str) -> Faker:
        """A faker for `locale`, re-seeded so each pool is reproducible on its own."""
        fake = self._fakers.get(locale)
        if fake is None:
            fake = self._fakers[locale] = _stable_faker(locale)
        fake.seed_instance(seed)
        return fake

    def start_drop(self, start: int) -> None:
        """References in a drop may only point at rows created before the drop's first second."""
        self.drop_start = start
        self._pools.clear()

    def invalidate(self, entity: str) -> None:
        """Forget cached pools of `entity` (its rows were deleted or added in this drop)."""
        for key in [k for k in self._pools if k[0] == entity]:
            del self._pools[key]

    def pick(self, entity: str, skew: float, rng: random.Random, at: int, live_from: int) -> list:
        """A row of `entity` live from `live_from` on, popular rows more often, as it was at `at`.

        Raises if the entity has no live row at all. A key is live at least until the drop ends.
        Only if no key is live yet at `live_from` (rows dated before all of the entity's rows) the
        oldest key is taken.
        """
        pool = self._pools.get((entity, skew))
        if pool is None:
            pool = self._pools[(entity, skew)] = self._pool(entity, skew)
        cum, since = pool.cum, pool.since
        if live_from >= since[-1]:
            k = bisect(cum, rng.random() * cum[-1])
        else:
            top = bisect_right(since, live_from) or 1
            k = bisect(cum, rng.random() * cum[top - 1], 0, top)
        if pool.versions is not None and (changed := pool.versions[k]) is not None:
            times, rows = changed
            return rows[bisect_right(times, at) - 1]
        return pool.rows[k]

    def _pool(self, entity: str, skew: float) -> Pool:
        store = self.stores[entity]
        live = store.live_before(self.drop_start)
        if not live:
            raise ParameterError(
                f"no {entity!r} rows exist yet to refer to; use more --rows or fewer --batches, "
                f"or raise {entity!r} rows/history_days in the settings"
            )
        live.sort(key=store.created.__getitem__)  # stable: serial order when nothing came back
        pop = store.popularity
        cum = list(accumulate(pop[i] ** -skew for i in live)) if skew else list(range(1, len(live) + 1))
        versions = [store.versions.get(i) for i in live] if store.versions else None
        log.debug("pool %s skew=%s: %d live rows", entity, skew, len(live))
        return Pool([store.rows[i] for i in live], cum, [store.created[i] for i in live], versions)
