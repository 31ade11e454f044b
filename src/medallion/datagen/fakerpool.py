"""Faker-backed columns: values drawn from pools made once per column, never per row.

Calling faker per row would dominate big runs; a pool of a few thousand values per column (and
per locale when the locale follows another column) keeps variety and costs milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from medallion.datagen.problems import Problems, SettingsError
from medallion.errors import SpecProblem

__all__ = ["build_faker", "check_faker"]


def check_faker(o: Mapping, path: str, p: Problems) -> None:
    p.get(o, "provider", path, str)
    p.get(o, "args", path, dict, {})
    p.number(o, "pool", path, None, low=1, high=1_000_000, integer=True)
    by = p.get(o, "by", path, dict, None)
    if by:
        p.only(by, frozenset({"column", "locales"}), f"{path}.by")
        p.get(by, "column", f"{path}.by", str)
        locales = p.get(by, "locales", f"{path}.by", dict) or {}
        for k, v in locales.items():
            if not isinstance(v, str):
                p.add(f"{path}.by.locales.{k}", f"must be a faker locale name, got {v!r}")


def build_faker(o: Mapping, col: Any, env: Any) -> Any:
    size = o.get("pool") or env.settings.pool_size
    provider, args = o["provider"], dict(o.get("args", {}))

    def pool(locale: str) -> list:
        key = (locale, f"{env.seed}:{col.path}:{locale}", provider, json.dumps(args, sort_keys=True), size)
        if key not in _POOLS:
            fake = env.faker(locale, key[1])
            fn = getattr(fake, provider, None)
            if not callable(fn) or provider.startswith("_"):
                raise SettingsError([_problem(env, col, provider)])
            try:
                values = [fn(**args) for _ in range(size)]
            except (TypeError, ValueError, AttributeError) as exc:
                raise SettingsError(
                    [_problem(env, col, provider, f"fails with args {args}: {exc}")]
                ) from None
            if len(_POOLS) > 256:
                _POOLS.clear()
            _POOLS[key] = tuple(v.replace("\n", ", ") if isinstance(v, str) else _plain(v) for v in values)
        return _POOLS[key]

    default = pool(env.settings.locale)
    by = o.get("by")
    if not by:
        return lambda ctx: default[int(ctx.rng.random() * size)]
    pools = {value: pool(loc) for value, loc in sorted(by["locales"].items())}
    pos = env.position(col.entity, by["column"])
    return lambda ctx: pools.get(ctx.row[pos], default)[int(ctx.rng.random() * size)]


_POOLS: dict[tuple, tuple] = {}  # same seed, same pool: reused within one process (tests, notebooks)


def _plain(v: Any) -> Any:
    if isinstance(v, int | float | str) or v is None:
        return v
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _problem(env: Any, col: Any, provider: str, why: str = "is not a faker provider"):
    return SpecProblem(env.settings.source, 0, f"{col.path}.provider", f"{provider!r} {why}")
