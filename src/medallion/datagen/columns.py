"""Column kinds: a registry from the settings word (`"kind": "choice"`) to a checker and a builder.

A builder turns one column's settings into a small function `gen(ctx) -> value` called once per row;
anything expensive (faker pools, cumulative weights) is prepared once in the builder.
"""

from __future__ import annotations

import math
import random
import unicodedata
from bisect import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from medallion.datagen.fakerpool import build_faker, check_faker
from medallion.datagen.problems import Problems
from medallion.datagen.timeline import format_date, format_ts

if TYPE_CHECKING:
    from medallion.datagen.settings import ColumnSettings, EntitySettings

__all__ = [
    "KINDS",
    "ColumnKind",
    "Gen",
    "RowCtx",
    "build_column",
    "check_column",
    "column_deps",
    "key_formatter",
    "numeric_range",
    "transition_table",
]


class RowCtx:
    """What a generator may read about the row being built; one object reused for all rows."""

    __slots__ = (
        "child_index", "live_from", "op", "parent", "parent_serial", "picked", "rng", "row", "serial", "time",
    )  # fmt: skip

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.serial = 0
        self.time = 0
        self.live_from = (
            0  # referenced keys must be live from here (<= time when rows made from it are earlier)
        )
        self.row: list = []
        self.parent: list | None = None
        self.parent_serial = 0
        self.child_index = 0
        self.op = "insert"
        self.picked: dict[str, list | None] = {}


Gen = Callable[[RowCtx], Any]


@dataclass(frozen=True)
class ColumnKind:
    """`options` lists the allowed keys; `check` validates them; `build` makes the generator."""

    options: frozenset[str]
    check: Callable[[Mapping, str, Problems], None]
    build: Callable[[Mapping, Any, Any], Gen]
    deps: Callable[[Mapping], tuple[str, ...]] = lambda o: ()


def _no_check(o: Mapping, path: str, p: Problems) -> None:
    return None


def _fmt_value(v: Any, places: int) -> Any:
    """Floats are written as a source system would: fixed decimal places, as text."""
    return f"{v:.{places}f}" if isinstance(v, float) else v


def _cum(weights: Any, size: int) -> list[float]:
    return list(accumulate(weights if weights else [1.0] * size))


def _picker(values: list, weights: Any) -> Callable[[random.Random], Any]:
    cum = _cum(weights, len(values))
    total = cum[-1]
    return lambda rng: values[bisect(cum, rng.random() * total)]


# --- sequence -------------------------------------------------------------------------------


def key_formatter(o: Mapping) -> Callable[[int], Any]:
    """How a serial number becomes a key: `prefix` + zero-padded `width` digits, or a bare int."""
    prefix, width = o.get("prefix", ""), o.get("width", 0)
    if not prefix and not width:
        return int
    return lambda n: f"{prefix}{n:0{width}d}"


def _check_sequence(o: Mapping, path: str, p: Problems) -> None:
    p.get(o, "prefix", path, str, "")
    p.number(o, "width", path, 0, low=0, high=18, integer=True)


def _build_sequence(o: Mapping, col: Any, env: Any) -> Gen:
    fmt = key_formatter(o)
    return lambda ctx: fmt(ctx.serial)


def _build_parent_serial(o: Mapping, col: Any, env: Any) -> Gen:
    fmt = key_formatter(o)
    return lambda ctx: fmt(ctx.parent_serial)


# --- choice, numbers ------------------------------------------------------------------------


def _check_choice(o: Mapping, path: str, p: Problems) -> None:
    values = p.get(o, "values", path, list)
    if values is not None and not values:
        p.add(f"{path}.values", "must not be empty")
    weights = p.get(o, "weights", path, list, None)
    if (
        values
        and weights is not None
        and (
            len(weights) != len(values)
            or not all(isinstance(w, int | float) and w >= 0 for w in weights)
            or not sum(weights) > 0
        )
    ):
        p.add(f"{path}.weights", f"must be {len(values)} numbers >= 0 with a positive sum")
    p.number(o, "places", path, 2, low=0, high=12, integer=True)
    for frm, to in (p.get(o, "transitions", path, dict, {}) or {}).items():
        targets = to if isinstance(to, list) else list(to) if isinstance(to, dict) else None
        if not targets or any(t not in (values or []) for t in targets) or frm not in (values or []):
            p.add(
                f"{path}.transitions.{frm}",
                "must map a listed value to a list (or {value: weight}) of listed values",
            )
    by = p.get(o, "by", path, dict, None)
    if by:
        p.only(by, frozenset({"column", "values"}), f"{path}.by")
        p.get(by, "column", f"{path}.by", str)
        for k, v in (p.get(by, "values", f"{path}.by", dict) or {}).items():
            if not isinstance(v, list) or not v:
                p.add(f"{path}.by.values.{k}", "must be a non-empty list")


def _build_choice(o: Mapping, col: Any, env: Any) -> Gen:
    places = o.get("places", 2)
    values = [_fmt_value(v, places) for v in o["values"]]
    pick = _picker(values, o.get("weights"))
    by = o.get("by")
    if not by:
        return lambda ctx: pick(ctx.rng)
    pos = env.position(col.entity, by["column"])
    lists = {k: [_fmt_value(v, places) for v in vs] for k, vs in by["values"].items()}

    def gen(ctx: RowCtx) -> Any:
        options = lists.get(ctx.row[pos])
        return options[int(ctx.rng.random() * len(options))] if options else pick(ctx.rng)

    return gen


def transition_table(o: Mapping) -> dict[Any, Callable[[random.Random], Any]]:
    """For updates: from each value, a picker of the next value (a small state machine)."""
    places = o.get("places", 2)
    table = {}
    for frm, to in o.get("transitions", {}).items():
        targets = list(to) if isinstance(to, dict) else to
        weights = [to[t] for t in targets] if isinstance(to, dict) else None
        table[_fmt_value(frm, places)] = _picker([_fmt_value(t, places) for t in targets], weights)
    return table


def _check_range(o: Mapping, path: str, p: Problems, integer: bool) -> None:
    low = p.number(o, "min", path, integer=integer)
    high = p.number(o, "max", path, integer=integer)
    if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
        p.add(f"{path}.max", f"must be >= min ({low})")
    if not integer:
        p.number(o, "places", path, 2, low=0, high=12, integer=True)
        dist = p.get(o, "distribution", path, str, "uniform")
        if dist not in ("uniform", "log_uniform"):
            p.add(f"{path}.distribution", "must be uniform or log_uniform")
        elif dist == "log_uniform" and isinstance(low, int | float) and low <= 0:
            p.add(f"{path}.min", "must be > 0 for log_uniform")


def _build_integer(o: Mapping, col: Any, env: Any) -> Gen:
    low, high = o["min"], o["max"]
    return lambda ctx: ctx.rng.randint(low, high)


def _build_decimal(o: Mapping, col: Any, env: Any) -> Gen:
    low, high, places = float(o["min"]), float(o["max"]), o.get("places", 2)
    if o.get("distribution") == "log_uniform":
        a, b = math.log(low), math.log(high)
        return lambda ctx: f"{min(high, max(low, math.exp(ctx.rng.uniform(a, b)))):.{places}f}"
    return lambda ctx: f"{ctx.rng.uniform(low, high):.{places}f}"


def numeric_range(col: ColumnSettings, entities: Mapping[str, EntitySettings]) -> tuple[float, float] | None:
    """The valid range of a numeric column (for out-of-range and bad-type anomalies), else None."""
    o = col.options
    if col.kind in ("integer", "decimal"):
        return float(o["min"]), float(o["max"])
    if col.kind == "choice":
        nums = [v for v in o["values"] if isinstance(v, int | float) and not isinstance(v, bool)]
        return (float(min(nums)), float(max(nums))) if len(nums) == len(o["values"]) else None
    if col.kind == "lookup":
        owner = next(e for e in entities.values() if col in e.columns)
        target = entities[owner.column(o["reference"]).options["entity"]]
        return numeric_range(target.column(o["column"]), entities)
    return None


# --- time, links ----------------------------------------------------------------------------


def _check_timestamp(o: Mapping, path: str, p: Problems) -> None:
    off = p.get(o, "offset_minutes", path, list, None)
    if off is not None and not (len(off) == 2 and all(isinstance(v, int) for v in off) and off[0] <= off[1]):
        p.add(f"{path}.offset_minutes", "must be [min, max] whole minutes with min <= max")


def _build_timestamp(o: Mapping, col: Any, env: Any) -> Gen:
    if "offset_minutes" not in o:
        return lambda ctx: format_ts(ctx.time)
    low, high = o["offset_minutes"][0] * 60, o["offset_minutes"][1] * 60
    return lambda ctx: format_ts(ctx.time + ctx.rng.randint(low, high))


def _check_reference(o: Mapping, path: str, p: Problems) -> None:
    p.get(o, "entity", path, str)
    p.number(o, "skew", path, 0.0, low=0, high=5)


def _build_reference(o: Mapping, col: Any, env: Any) -> Gen:
    target, skew, name = o["entity"], float(o.get("skew", 0.0)), col.name
    key_pos = env.position(target, env.settings.entity(target).key)

    def gen(ctx: RowCtx) -> Any:
        row = env.pick(target, skew, ctx.rng, ctx.time, ctx.live_from)
        ctx.picked[name] = row
        return row[key_pos]

    return gen


def _build_parent(o: Mapping, col: Any, env: Any) -> Gen:
    pos = env.position(env.settings.entity(col.entity).rows.parent, o["column"])
    return lambda ctx: ctx.parent[pos]


def _build_lookup(o: Mapping, col: Any, env: Any) -> Gen:
    entity = env.settings.entity(col.entity)
    ref, target = o["reference"], entity.column(o["reference"]).options["entity"]
    pos = env.position(target, o["column"])

    def gen(ctx: RowCtx) -> Any:
        row = ctx.picked.get(ref)
        return None if row is None else row[pos]

    return gen


def _check_email(o: Mapping, path: str, p: Problems) -> None:
    cols = p.get(o, "from", path, list)
    if cols is not None and (not cols or not all(isinstance(c, str) for c in cols)):
        p.add(f"{path}.from", "must list the column names the local part is made of")
    _check_choice({"values": p.get(o, "domains", path, list) or [], "weights": o.get("weights")}, path, p)


def _ascii(text: Any) -> str:
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _build_email(o: Mapping, col: Any, env: Any) -> Gen:
    positions = [env.position(col.entity, c) for c in o["from"]]
    domain = _picker(list(o["domains"]), o.get("weights"))

    def gen(ctx: RowCtx) -> str:
        local = ".".join(_ascii(ctx.row[i]) for i in positions)
        return f"{local}{ctx.serial % 1000}@{domain(ctx.rng)}"

    return gen


def _check_compose(o: Mapping, path: str, p: Problems) -> None:
    parts = p.get(o, "parts", path, list) or []
    for i, part in enumerate(parts):
        pp = f"{path}.parts[{i}]"
        if not isinstance(part, dict):
            p.add(pp, "must be a column-like object with a kind")
            continue
        check_column(
            p.get(part, "kind", pp, str) or "", {k: v for k, v in part.items() if k != "kind"}, pp, p
        )
    p.get(o, "separator", path, str, " ")


def _build_compose(o: Mapping, col: Any, env: Any) -> Gen:
    parts = [
        build_column(replace(col, kind=part["kind"], null_rate=0.0, options={k: v for k, v in part.items() if k != "kind"},
                             path=f"{col.path}.parts[{i}]"), env)
        for i, part in enumerate(o["parts"])
    ]  # fmt: skip
    sep = o.get("separator", " ")
    return lambda ctx: sep.join(str(g(ctx)) for g in parts)


def _check_operation(o: Mapping, path: str, p: Problems) -> None:
    for word, default in (("insert", "I"), ("update", "U"), ("delete", "D")):
        p.get(o, word, path, str, default)


def _build_operation(o: Mapping, col: Any, env: Any) -> Gen:
    codes = {"insert": o.get("insert", "I"), "update": o.get("update", "U"), "delete": o.get("delete", "D")}
    return lambda ctx: codes[ctx.op]


def _deps_compose(o: Mapping) -> tuple[str, ...]:
    return tuple(d for part in o.get("parts", []) for d in column_deps(part.get("kind", ""), part))


_SEQ = frozenset({"prefix", "width"})
KINDS: dict[str, ColumnKind] = {
    "sequence": ColumnKind(_SEQ, _check_sequence, _build_sequence),
    "parent_serial": ColumnKind(_SEQ, _check_sequence, _build_parent_serial),
    "faker": ColumnKind(frozenset({"provider", "args", "pool", "by"}), check_faker, build_faker,
                        lambda o: (o["by"]["column"],) if o.get("by") else ()),
    "choice": ColumnKind(frozenset({"values", "weights", "places", "transitions", "by"}), _check_choice,
                         _build_choice, lambda o: (o["by"]["column"],) if o.get("by") else ()),
    "integer": ColumnKind(frozenset({"min", "max"}), lambda o, pa, p: _check_range(o, pa, p, True), _build_integer),
    "decimal": ColumnKind(frozenset({"min", "max", "places", "distribution"}),
                          lambda o, pa, p: _check_range(o, pa, p, False), _build_decimal),
    "timestamp": ColumnKind(frozenset({"offset_minutes"}), _check_timestamp, _build_timestamp),
    "date": ColumnKind(frozenset(), _no_check, lambda o, c, e: lambda ctx: format_date(ctx.time)),
    "reference": ColumnKind(frozenset({"entity", "skew"}), _check_reference, _build_reference),
    "parent": ColumnKind(frozenset({"column"}), lambda o, pa, p: p.get(o, "column", pa, str), _build_parent),
    "child_index": ColumnKind(frozenset(), _no_check, lambda o, c, e: lambda ctx: ctx.child_index),
    "lookup": ColumnKind(frozenset({"reference", "column"}),
                         lambda o, pa, p: None,
                         _build_lookup, lambda o: (o["reference"],)),
    "email": ColumnKind(frozenset({"from", "domains", "weights"}), _check_email, _build_email,
                        lambda o: tuple(o["from"])),
    "compose": ColumnKind(frozenset({"parts", "separator"}), _check_compose, _build_compose, _deps_compose),
    "operation": ColumnKind(frozenset({"insert", "update", "delete"}), _check_operation, _build_operation),
}  # fmt: skip


def check_column(kind: str, options: Mapping, path: str, p: Problems) -> None:
    """Validate one column's kind-specific options, recording problems under `path`."""
    entry = KINDS.get(kind)
    if entry is None:
        if kind:
            p.add(f"{path}.kind", f"unknown column kind {kind!r}", f"known: {', '.join(sorted(KINDS))}")
        return
    p.only(options, entry.options, path)
    entry.check(options, path, p)


def column_deps(kind: str, options: Mapping) -> tuple[str, ...]:
    """Columns of the same row this column is computed from (they are generated first)."""
    entry = KINDS.get(kind)
    return entry.deps(options) if entry else ()


def build_column(col: Any, env: Any) -> Gen:
    """The generator for one column, with its null rate applied. `col` needs `.entity` (owner name)."""
    gen = KINDS[col.kind].build(col.options, col, env)
    rate = getattr(col, "null_rate", 0.0)
    if not rate:
        return gen
    return lambda ctx: None if ctx.rng.random() < rate else gen(ctx)
