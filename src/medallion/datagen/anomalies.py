"""Deliberately bad rows, each recorded in a manifest that later data-quality checks are tested against.

A registry maps each kind (`null_key`, `bad_type`, ...) to the columns it applies to and to a
function that turns a copy of a valid row into the bad row. Bad rows are extra lines next to
valid rows; valid rows are the same with or without anomalies (anomalies use their own random
stream and key range), so the manifest is an exact oracle.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from medallion.datagen.columns import RowCtx, key_formatter, numeric_range
from medallion.datagen.settings import EntitySettings, Settings
from medallion.datagen.timeline import DAY, day_seconds, format_date, format_ts
from medallion.datagen.writer import DropFile, to_json_line

__all__ = ["ANOMALIES", "RESERVED", "Anomaly", "AnomalyKind", "Injector", "Profile", "key_top"]

RESERVED = 10_000  # keys [top-RESERVED, top] are bad rows' own keys; the next RESERVED never exist
_PLAIN = ("faker", "choice", "integer", "decimal", "email", "compose")
_BAD_TEXT = ("abc", "n/a", "12,5O", "#VALUE!", "twelve")


def key_top(options: Any) -> int:
    """The largest serial a key format can show; the reserved ranges sit just below it."""
    width = options.get("width", 0)
    return 10**width - 1 if width else 10**12 - 1


@dataclass(frozen=True)
class Anomaly:
    """One injected bad row: where it is and what is wrong with it."""

    entity: str
    file: str
    line: int
    kind: str
    column: str | None
    key: Any
    value: Any

    def to_json(self) -> dict:
        return {
            "entity": self.entity, "file": self.file, "line": self.line, "kind": self.kind,
            "column": self.column, "key": self.key, "value": self.value,
        }  # fmt: skip


@dataclass
class Profile:
    """What the anomaly kinds need to know about one entity."""

    entity: EntitySettings
    settings: Settings
    gens: dict[int, Callable]
    end_date: date
    positions: dict[str, int] = field(init=False)
    fk_targets: dict[str, str] = field(init=False)
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = {c.name: i for i, c in enumerate(self.entity.columns)}
        self.fk_targets = {
            c.name: t for c in self.entity.columns if (t := _fk_target(self.settings, self.entity, c.name))
        }

    def next_reserved(self, entity: str, offset: int) -> Any:
        """A key of `entity` that no valid row uses: offset 0 for bad rows, RESERVED for unknown refs."""
        n = self.counters.get(f"{entity}:{offset}", 0)
        self.counters[f"{entity}:{offset}"] = n + 1
        opts = self.settings.entity(entity).column(self.settings.entity(entity).key).options
        return key_formatter(opts)(key_top(opts) - offset - n % RESERVED)


def _fk_target(settings: Settings, e: EntitySettings, column: str) -> str | None:
    c = e.column(column)
    if c.kind == "reference":
        return c.options["entity"]
    if c.kind == "parent":
        parent = settings.entity(e.rows.parent)
        if c.options["column"] == parent.key:
            return parent.name
        return _fk_target(settings, parent, c.options["column"])
    return None


@dataclass(frozen=True)
class AnomalyKind:
    """`columns` lists where the kind applies ([None] = the whole row, [] = not here); `make` builds it."""

    columns: Callable[[Profile], list]
    make: Callable[[Profile, random.Random, list, Any], tuple[Any, Any]]  # -> (row or raw text, bad value)
    fresh_key: bool = True


def _numeric(p: Profile) -> list[str]:
    ents = {e.name: e for e in p.settings.entities}
    skip = (p.entity.key, p.entity.sequence)
    return [c.name for c in p.entity.columns if c.name not in skip and numeric_range(c, ents)]


def _set(p: Profile, row: list, column: str, value: Any) -> tuple[list, Any]:
    row[p.positions[column]] = value
    return row, value


def _bad_type(p: Profile, rng: random.Random, row: list, column: str) -> tuple[Any, Any]:
    return _set(p, row, column, rng.choice(_BAD_TEXT))


def _out_of_range(p: Profile, rng: random.Random, row: list, column: str) -> tuple[Any, Any]:
    col = p.entity.column(column)
    low, high = numeric_range(col, {e.name: e for e in p.settings.entities})
    integer = col.kind == "integer" or all(isinstance(v, int) for v in col.options.get("values", [0.5]))
    if low >= 0 and rng.random() < 0.5:
        bad = -rng.randint(1, max(1, int(high)))
    else:
        bad = int(high) * rng.randint(10, 100) + rng.randint(1, 9)
    return _set(p, row, column, bad if integer else f"{bad:.{col.options.get('places', 2)}f}")


def _duplicate(p: Profile, rng: random.Random, row: list, column: str) -> tuple[Any, Any]:
    others = [
        c for c in p.entity.columns if c.kind in _PLAIN and c.name not in (p.entity.key, p.entity.sequence)
    ]
    target = rng.choice(others)
    pos = p.positions[target.name]
    ctx = RowCtx(rng)
    ctx.row = row
    old = row[pos]
    for _ in range(20):
        row[pos] = p.gens[pos](ctx)
        if row[pos] != old:
            break
    else:
        row[pos] = f"{old}x"
    return row, row[p.positions[column]]


def _malformed(p: Profile, rng: random.Random, row: list, column: Any) -> tuple[Any, Any]:
    text = to_json_line(p.entity.column_names, row)
    cut = text[: rng.randint(1, len(text) // 2)]
    return cut, cut


def _unknown_fk(p: Profile, rng: random.Random, row: list, column: str) -> tuple[Any, Any]:
    return _set(p, row, column, p.next_reserved(p.fk_targets[column], RESERVED))


def _future(p: Profile, rng: random.Random, row: list, column: str) -> tuple[Any, Any]:
    # Over a year after both the data's last day and today, so "not in the future" rules catch it.
    day = max(p.end_date, date.today()) + timedelta(days=366 + rng.randint(30, 700))
    t = day_seconds(day) + rng.randrange(DAY)
    return _set(p, row, column, format_date(t) if p.entity.column(column).kind == "date" else format_ts(t))


def _keyed(p: Profile) -> list:
    return [p.entity.key] if p.entity.key else []


ANOMALIES: dict[str, AnomalyKind] = {
    "null_key": AnomalyKind(_keyed, lambda p, rng, row, col: _set(p, row, col, None), fresh_key=False),
    "bad_type": AnomalyKind(_numeric, _bad_type),
    "out_of_range": AnomalyKind(_numeric, _out_of_range),
    "duplicate_key": AnomalyKind(
        lambda p: _keyed(p) if any(c.kind in _PLAIN for c in p.entity.columns) else [],
        _duplicate,
        fresh_key=False,
    ),
    "malformed_json": AnomalyKind(lambda p: [None] if p.entity.format == "json" else [], _malformed),
    "unknown_fk": AnomalyKind(lambda p: sorted(p.fk_targets), _unknown_fk),
    "future_date": AnomalyKind(
        lambda p: [c.name for c in p.entity.columns if c.kind in ("timestamp", "date")], _future
    ),
}


class Injector:
    """Writes the planned bad rows of one entity in one drop right after chosen valid rows."""

    def __init__(self, profile: Profile, rng: random.Random, expected_rows: int, per_kind: int):
        self.profile = profile
        self.rng = rng
        self.found: list[Anomaly] = []
        allowed = profile.entity.anomalies
        plan = []
        for name, kind in ANOMALIES.items():
            columns = kind.columns(profile)
            if not columns or (allowed is not None and name not in allowed):
                continue
            for _ in range(per_kind):
                plan.append((rng.randrange(max(1, expected_rows)), name, rng.choice(columns)))
        plan.sort(key=lambda item: item[0])
        self.plan = plan
        self.seen = 0

    def after_row(self, out: DropFile, row: list) -> None:
        """Called after each valid row; emits the bad rows planned for this position."""
        self.seen += 1
        while self.plan and self.plan[0][0] < self.seen:
            _, name, column = self.plan.pop(0)
            self._emit(out, row, name, column)

    def finish(self, out: DropFile | None, last_row: list | None) -> None:
        """Bad rows planned past the real row count go after the last row (if there was one)."""
        while self.plan and out is not None and last_row is not None:
            _, name, column = self.plan.pop(0)
            self._emit(out, last_row, name, column)

    def _emit(self, out: DropFile, template: list, name: str, column: Any) -> None:
        p, kind = self.profile, ANOMALIES[name]
        row = list(template)
        e = p.entity
        if kind.fresh_key and e.key:
            row[p.positions[e.key]] = p.next_reserved(e.name, 0)
        if kind.fresh_key and e.operation:
            row[p.positions[e.operation]] = e.column(e.operation).options.get("insert", "I")
        bad, value = kind.make(p, self.rng, row, column)
        line = out.write_text(bad) if isinstance(bad, str) else out.write_row(bad)
        key = row[p.positions[e.key]] if e.key else None
        self.found.append(Anomaly(e.name, out.relative, line, name, column, key, value))
