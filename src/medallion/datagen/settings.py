"""Typed generator settings, read from JSON and validated before any file is written.

The settings describe entities in generation order: an entity may only refer to entities listed
before it (references, per-parent rows), so one pass over the list can produce consistent data.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from medallion.datagen.problems import Problems, SettingsError

__all__ = [
    "FORMATS",
    "Calendar",
    "ChangeRates",
    "ColumnSettings",
    "EntitySettings",
    "RowCount",
    "Settings",
    "TimeSettings",
    "load_settings",
    "parse_settings",
]

log = logging.getLogger(__name__)

FORMATS = ("csv", "json")
_TOP = frozenset({"description", "locale", "pool_size", "calendar", "anomalies", "entities"})
_ENTITY = frozenset(
    {"name", "description", "landing_folder", "format", "rows", "key", "sequence", "operation",
     "update_columns", "changes", "time", "anomalies", "columns"}
)  # fmt: skip
_COLUMN_COMMON = frozenset({"name", "kind", "null_rate", "description"})
_CHANGES = frozenset({"new", "update", "delete", "reinsert", "repeat", "repeat_max", "late", "unchanged"})


@dataclass(frozen=True)
class Calendar:
    """Relative weights that shape when rows happen: weekday (Monday first), month, hour of day."""

    weekday_weights: tuple[float, ...] = (1.0,) * 7
    month_weights: tuple[float, ...] = (1.0,) * 12
    hour_weights: tuple[float, ...] = (1.0,) * 24


@dataclass(frozen=True)
class RowCount:
    """How many rows an entity gets in the first drop: a ratio of `--rows`, fixed, or per parent row."""

    ratio: float | None = None
    minimum: int = 0
    fixed: int | None = None
    parent: str | None = None
    per_parent: tuple[int, int] = (1, 1)
    weights: tuple[float, ...] | None = None

    def initial(self, rows: int) -> int:
        if self.fixed is not None:
            return self.fixed
        return max(self.minimum, round(rows * (self.ratio or 0.0)))


@dataclass(frozen=True)
class ChangeRates:
    """Per later drop: new rows as a share of the first drop, updates/deletes as a share of live rows.

    The rest shape the change feed: `reinsert` brings back a share of the keys deleted in earlier
    drops, `repeat` changes a share of the updated keys again in the same drop (up to `repeat_max`
    changes per key and drop), `late` delivers one change of a share of the updated keys a drop
    late (a newer change of the key arrives on time), `unchanged` is the share of updates that
    repeat the current values with a newer sequence.
    """

    new: float = 0.0
    update: float = 0.0
    delete: float = 0.0
    reinsert: float = 0.0
    repeat: float = 0.0
    repeat_max: int = 3
    late: float = 0.0
    unchanged: float = 0.0


@dataclass(frozen=True)
class TimeSettings:
    """When rows happen: before the start (history of a master file) or near their parent row."""

    history_days: int = 0
    parent_offset_minutes: tuple[int, int] = (0, 0)
    hour_weights: tuple[float, ...] | None = None


@dataclass(frozen=True)
class ColumnSettings:
    """One output column; `options` holds the kind-specific settings checked by the kind's registry entry."""

    name: str
    kind: str
    options: MappingProxyType
    null_rate: float = 0.0
    path: str = ""
    entity: str = ""


@dataclass(frozen=True)
class EntitySettings:
    """One generated source table: its files, row counts, columns and change behaviour."""

    name: str
    landing_folder: str
    format: str
    rows: RowCount
    columns: tuple[ColumnSettings, ...]
    key: str | None = None
    sequence: str | None = None
    operation: str | None = None
    update_columns: tuple[str, ...] = ()
    changes: ChangeRates = ChangeRates()
    time: TimeSettings = TimeSettings()
    anomalies: tuple[str, ...] | None = None  # None = every kind that applies
    path: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSettings:
        return next(c for c in self.columns if c.name == name)

    @property
    def is_child(self) -> bool:
        return self.rows.parent is not None


@dataclass(frozen=True)
class Settings:
    """The whole generator configuration."""

    entities: tuple[EntitySettings, ...]
    calendar: Calendar = Calendar()
    locale: str = "en_US"
    pool_size: int = 2000
    anomaly_rows_per_kind: int = 2
    source: str = ""

    def entity(self, name: str) -> EntitySettings:
        return next(e for e in self.entities if e.name == name)


def load_settings(path: Path) -> Settings:
    """Read and validate a settings file; raises `SettingsError` listing every problem."""
    problems = Problems(str(path))
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        problems.add(f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}")
        raise SettingsError(problems.items) from None
    return parse_settings(raw, str(path))


def parse_settings(raw: Any, source: str = "<settings>") -> Settings:
    """Turn parsed JSON into `Settings`, collecting all problems before raising."""
    from medallion.datagen.checks import check_cross_references  # cycle: checks imports settings

    p = Problems(source)
    if not isinstance(raw, dict):
        p.add("$", "the settings must be a JSON object")
        p.raise_if_any()
    p.only(raw, _TOP, "")
    calendar = _calendar(p, p.get(raw, "calendar", "", dict, {}), "calendar")
    anomalies = p.get(raw, "anomalies", "", dict, {})
    p.only(anomalies, frozenset({"rows_per_kind"}), "anomalies")
    per_kind = p.number(anomalies, "rows_per_kind", "anomalies", 2, low=1, high=1000, integer=True)
    entities = []
    raw_entities = p.get(raw, "entities", "", list)
    if raw_entities is not None and not raw_entities:
        p.add("entities", "must list at least one entity")
    for i, item in enumerate(raw_entities or []):
        path = f"entities[{i}]"
        if not isinstance(item, dict):
            p.add(path, "must be a JSON object")
            continue
        entities.append(_entity(p, item, path))
    settings = Settings(
        entities=tuple(entities),
        calendar=calendar,
        locale=p.get(raw, "locale", "", str, "en_US"),
        pool_size=p.number(raw, "pool_size", "", 2000, low=1, high=1_000_000, integer=True),
        anomaly_rows_per_kind=per_kind,
        source=source,
    )
    if not p.items:
        check_cross_references(settings, p)
    p.raise_if_any()
    log.debug("settings %s: %d entities", source, len(settings.entities))
    return settings


def _weights(p: Problems, obj: dict, key: str, path: str, size: int, default: Any) -> Any:
    values = p.get(obj, key, path, list, default)
    if values is None or values is default:
        return values
    where = f"{path}.{key}"
    if len(values) != size:
        p.add(where, f"must list {size} weights, got {len(values)}")
    elif not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values):
        p.add(where, "weights must be numbers >= 0")
    elif not sum(values) > 0:
        p.add(where, "at least one weight must be > 0")
    else:
        return tuple(float(v) for v in values)
    return default


def _calendar(p: Problems, raw: dict, path: str) -> Calendar:
    p.only(raw, frozenset({"weekday_weights", "month_weights", "hour_weights"}), path)
    base = Calendar()
    return Calendar(
        weekday_weights=_weights(p, raw, "weekday_weights", path, 7, base.weekday_weights),
        month_weights=_weights(p, raw, "month_weights", path, 12, base.month_weights),
        hour_weights=_weights(p, raw, "hour_weights", path, 24, base.hour_weights),
    )


def _rows(p: Problems, raw: dict, path: str) -> RowCount:
    p.only(raw, frozenset({"ratio", "min", "fixed", "per_parent", "max", "weights"}), path)
    modes = [k for k in ("ratio", "fixed", "per_parent") if k in raw]
    if len(modes) != 1:
        p.add(path, "needs exactly one of ratio, fixed, per_parent", 'e.g. {"ratio": 0.2, "min": 10}')
        return RowCount(fixed=0)
    if "fixed" in raw:
        return RowCount(fixed=p.number(raw, "fixed", path, low=0, integer=True))
    if "ratio" in raw:
        return RowCount(
            ratio=p.number(raw, "ratio", path, low=0),
            minimum=p.number(raw, "min", path, 0, low=0, integer=True),
        )
    low = p.number(raw, "min", path, 1, low=0, integer=True)
    high = p.number(raw, "max", path, low if isinstance(low, int) else 1, low=0, integer=True)
    if isinstance(low, int) and isinstance(high, int) and high < low:
        p.add(f"{path}.max", f"must be >= min ({low}), got {high}")
        high = low
    size = (high or 0) - (low or 0) + 1
    return RowCount(
        parent=p.get(raw, "per_parent", path, str),
        per_parent=(low or 0, high or 0),
        weights=_weights(p, raw, "weights", path, size, None),
    )


def _entity(p: Problems, raw: dict, path: str) -> EntitySettings:
    from medallion.datagen.columns import check_column  # cycle: columns imports settings

    p.only(raw, _ENTITY, path)
    name = p.get(raw, "name", path, str) or f"#{path}"
    fmt = p.get(raw, "format", path, str, "csv")
    if fmt not in FORMATS:
        p.add(f"{path}.format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    changes = p.get(raw, "changes", path, dict, {})
    p.only(changes, _CHANGES, f"{path}.changes")
    cpath = f"{path}.changes"
    time = p.get(raw, "time", path, dict, {})
    tpath = f"{path}.time"
    p.only(time, frozenset({"history_days", "parent_offset_minutes", "hour_weights"}), tpath)
    offset = p.get(time, "parent_offset_minutes", tpath, list, [0, 0])
    if not (len(offset) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in offset)):
        p.add(f"{tpath}.parent_offset_minutes", "must be [min, max] whole minutes")
        offset = [0, 0]
    elif offset[0] > offset[1]:
        p.add(f"{tpath}.parent_offset_minutes", "min must be <= max")
    columns = []
    for j, col in enumerate(p.get(raw, "columns", path, list) or []):
        cp = f"{path}.columns[{j}]"
        if not isinstance(col, dict):
            p.add(cp, "must be a JSON object")
            continue
        cname = p.get(col, "name", cp, str) or f"#{j}"
        kind = p.get(col, "kind", cp, str) or ""
        options = {k: v for k, v in col.items() if k not in _COLUMN_COMMON}
        check_column(kind, options, cp, p)
        columns.append(
            ColumnSettings(
                name=cname,
                kind=kind,
                options=MappingProxyType(options),
                null_rate=p.number(col, "null_rate", cp, 0.0, low=0, high=1),
                path=cp,
                entity=name,
            )
        )
    anomalies = p.get(raw, "anomalies", path, list, None)
    return EntitySettings(
        name=name,
        landing_folder=p.get(raw, "landing_folder", path, str, name),
        format=fmt,
        rows=_rows(p, p.get(raw, "rows", path, dict, {}) or {}, f"{path}.rows"),
        columns=tuple(columns),
        key=p.get(raw, "key", path, str, None),
        sequence=p.get(raw, "sequence", path, str, None),
        operation=p.get(raw, "operation", path, str, None),
        update_columns=tuple(p.get(raw, "update_columns", path, list, [])),
        changes=ChangeRates(
            new=p.number(changes, "new", cpath, 0.0, low=0, high=1000),
            update=p.number(changes, "update", cpath, 0.0, low=0, high=1),
            delete=p.number(changes, "delete", cpath, 0.0, low=0, high=1),
            reinsert=p.number(changes, "reinsert", cpath, 0.0, low=0, high=1),
            repeat=p.number(changes, "repeat", cpath, 0.0, low=0, high=1),
            repeat_max=p.number(changes, "repeat_max", cpath, 3, low=2, high=10, integer=True),
            late=p.number(changes, "late", cpath, 0.0, low=0, high=1),
            unchanged=p.number(changes, "unchanged", cpath, 0.0, low=0, high=1),
        ),
        time=TimeSettings(
            history_days=p.number(time, "history_days", tpath, 0, low=0, high=36500, integer=True),
            parent_offset_minutes=(offset[0], offset[1]),
            hour_weights=_weights(p, time, "hour_weights", tpath, 24, None),
        ),
        anomalies=tuple(anomalies) if anomalies is not None else None,
        path=path,
    )


__all__ += ["SettingsError"]
