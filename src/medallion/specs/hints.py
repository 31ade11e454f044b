"""The "did you mean" hint every spec check gives with a wrong name, in one place."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "did_you_mean"]

_SHOWN = 12  # names listed at most when no close match exists


def close_matches(name: str, known: Iterable[str], n: int = 1) -> list[str]:
    """Up to `n` known names close to `name` (compared case-insensitively), as the known spell them."""
    by_lower: dict[str, str] = {}
    for item in known:
        by_lower.setdefault(item.lower(), item)
    return [by_lower[m] for m in difflib.get_close_matches(name.lower(), list(by_lower), n=n)]


def did_you_mean(name: str, known: Iterable[str], what: str, n: int = 1) -> str:
    """A fix hint: the closest known name(s), or the known names (`what: a, b, ...`)."""
    known = list(known)
    close = close_matches(name, known, n)
    if close:
        return f"did you mean {' or '.join(close)}?"
    shown = ", ".join(known[:_SHOWN]) + (", ..." if len(known) > _SHOWN else "")
    return f"{what}: {shown or 'none'}"
