"""Rows that later rows depend on: live keys to refer to, current versions to update or delete.

Only entities that are referenced, or change in later drops, are kept; children never are.
Rows are indexed by serial number (serial 1 at index 0); a deleted row becomes None.
"""

from __future__ import annotations

import logging
import random
from bisect import bisect
from itertools import accumulate
from typing import Any

from faker import Faker

from medallion.datagen.settings import Settings

__all__ = ["EntityStore", "World"]

log = logging.getLogger(__name__)


class EntityStore:
    """Current version of every row of one entity, its creation time and its popularity draw."""

    def __init__(self) -> None:
        self.rows: list[list | None] = []
        self.created: list[int] = []
        self.popularity: list[float] = []  # u in (0, 1]; weight = u ** -skew, a Zipf-like tail

    def add(self, row: list, created: int, popularity: float) -> None:
        self.rows.append(row)
        self.created.append(created)
        self.popularity.append(popularity)

    def live_before(self, start: int) -> list[int]:
        """Indexes of rows that exist and were created before `start`."""
        rows, created = self.rows, self.created
        return [i for i in range(len(rows)) if rows[i] is not None and created[i] < start]


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
        self.drop_start = 0
        self._fakers: dict[str, Faker] = {}
        self._pools: dict[tuple[str, float], tuple[list, list[float], float]] = {}

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

    def pick(self, entity: str, skew: float, rng: random.Random) -> list:
        """A live row of `entity`, popular rows more often; raises if there is none."""
        pool = self._pools.get((entity, skew))
        if pool is None:
            pool = self._pools[(entity, skew)] = self._pool(entity, skew)
        rows, cum, total = pool
        return rows[bisect(cum, rng.random() * total)]

    def _pool(self, entity: str, skew: float) -> tuple[list, list[float], float]:
        store = self.stores[entity]
        live = store.live_before(self.drop_start)
        if not live:
            from medallion.errors import ParameterError

            raise ParameterError(
                f"no {entity!r} rows exist yet to refer to; use more --rows or fewer --batches, "
                f"or raise {entity!r} rows/history_days in the settings"
            )
        rows = [store.rows[i] for i in live]
        pop = store.popularity
        cum = list(accumulate(pop[i] ** -skew for i in live)) if skew else list(range(1, len(live) + 1))
        log.debug("pool %s skew=%s: %d live rows", entity, skew, len(rows))
        return rows, cum, float(cum[-1])

    def row(self, entity: str, serial: int) -> Any:
        return self.stores[entity].rows[serial - 1]
