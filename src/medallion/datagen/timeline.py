"""Time as whole seconds since 1970-01-01 (naive, no time zone), split into landing drops.

Integers keep generation fast and deterministic; strings are made only when a row is written,
with a per-day cache because formatting a datetime per row would dominate big runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from medallion.datagen.settings import Calendar

__all__ = ["DAY", "Slice", "day_seconds", "format_date", "format_ts", "seasonal_times", "split_range"]

DAY = 86_400
_EPOCH = date(1970, 1, 1).toordinal()


def day_seconds(d: date) -> int:
    """Seconds at midnight starting day `d`."""
    return (d.toordinal() - _EPOCH) * DAY


@lru_cache(maxsize=65_536)
def _day_text(day: int) -> str:
    return date.fromordinal(day + _EPOCH).isoformat()


def format_date(t: int) -> str:
    """ISO date of a second count."""
    return _day_text(t // DAY)


def format_ts(t: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` of a second count."""
    s = t % DAY
    return f"{_day_text(t // DAY)} {s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass(frozen=True)
class Slice:
    """The days one landing drop covers; files are named after `last_day`."""

    number: int
    first_day: date
    last_day: date

    @property
    def start(self) -> int:
        return day_seconds(self.first_day)

    @property
    def end(self) -> int:
        """First second after the slice."""
        return day_seconds(self.last_day) + DAY


def split_range(start: date, end: date, batches: int) -> list[Slice]:
    """Split [start, end] into `batches` consecutive slices of whole days, as even as possible."""
    days = (end - start).days + 1
    bounds = [i * days // batches for i in range(batches + 1)]
    return [
        Slice(i + 1, start + timedelta(days=bounds[i]), start + timedelta(days=bounds[i + 1] - 1))
        for i in range(batches)
    ]


def seasonal_times(
    rng: random.Random,
    first_day: date,
    last_day: date,
    n: int,
    calendar: Calendar,
    hour_weights: tuple[float, ...] | None = None,
) -> list[int]:
    """`n` sorted timestamps in [first_day, last_day], weighted by weekday, month and hour."""
    if n <= 0:
        return []
    days = (last_day - first_day).days + 1
    weights = []
    for i in range(days):
        d = first_day + timedelta(days=i)
        weights.append(calendar.weekday_weights[d.weekday()] * calendar.month_weights[d.month - 1])
    if not sum(weights) > 0:
        weights = [1.0] * days
    base = day_seconds(first_day)
    picked_days = rng.choices(range(days), cum_weights=list(accumulate(weights)), k=n)
    hours = rng.choices(range(24), cum_weights=list(accumulate(hour_weights or calendar.hour_weights)), k=n)
    rand = rng.randrange
    out = [base + d * DAY + h * 3600 + rand(3600) for d, h in zip(picked_days, hours, strict=True)]
    out.sort()
    return out
