"""Checks across entities and columns: names resolve, roles have the right kinds, no cycles.

Done once on the typed settings so the engine can index without defensive code.
"""

from __future__ import annotations

from medallion.datagen.columns import column_deps
from medallion.datagen.problems import Problems
from medallion.datagen.settings import ChangeRates, EntitySettings, Settings

__all__ = ["check_cross_references", "generation_order"]

_ROLES = (("key", "sequence"), ("sequence", "timestamp"), ("operation", "operation"))
_CHILD_KINDS = ("parent", "parent_serial", "child_index")


def check_cross_references(settings: Settings, p: Problems) -> None:
    """Record every inconsistency between entities, columns and their roles."""
    from medallion.datagen.anomalies import ANOMALIES  # cycle: anomalies imports settings, which imports us

    seen: dict[str, EntitySettings] = {}
    folders: dict[str, str] = {}
    for e in settings.entities:
        if e.name in seen:
            p.add(f"{e.path}.name", f"entity {e.name!r} is defined twice")
        if e.landing_folder in folders:
            p.add(
                f"{e.path}.landing_folder",
                f"folder {e.landing_folder!r} is already used by {folders[e.landing_folder]!r}",
            )
        folders.setdefault(e.landing_folder, e.name)
        _check_entity(e, seen, p)
        for kind in e.anomalies or ():
            if kind not in ANOMALIES:
                p.add(
                    f"{e.path}.anomalies", f"unknown anomaly kind {kind!r}", f"known: {', '.join(ANOMALIES)}"
                )
        seen[e.name] = e


def _check_entity(e: EntitySettings, earlier: dict[str, EntitySettings], p: Problems) -> None:
    names = [c.name for c in e.columns]
    if not names:
        p.add(f"{e.path}.columns", "must list at least one column")
    for c in e.columns:
        if names.count(c.name) > 1:
            p.add(f"{c.path}.name", f"column {c.name!r} is defined twice")
    by_name = {c.name: c for c in e.columns}
    for role, kind in _ROLES:
        col = getattr(e, role)
        if col is None:
            continue
        if col not in by_name:
            p.add(f"{e.path}.{role}", f"names no column of {e.name!r}: {col!r}")
        elif by_name[col].kind != kind:
            p.add(f"{e.path}.{role}", f"column {col!r} must have kind {kind!r}, has {by_name[col].kind!r}")
    for c in e.columns:
        if c.kind == "operation" and e.operation != c.name:
            p.add(f"{c.path}.kind", "an operation column must be named by the entity's 'operation' setting")
    for i, col in enumerate(e.update_columns):
        if col not in by_name or col in (e.key, e.sequence, e.operation):
            p.add(f"{e.path}.update_columns[{i}]", f"{col!r} must be a plain column of {e.name!r}")
    ch = e.changes
    if ch.update > 0 and not (e.key and e.sequence and e.update_columns):
        p.add(f"{e.path}.changes.update", "updates need 'key', 'sequence' and 'update_columns'")
    if ch.delete > 0 and not (e.key and e.sequence and e.operation):
        p.add(f"{e.path}.changes.delete", "deletes need 'key', 'sequence' and 'operation'")
    if ch.reinsert > 0 and not ch.delete:
        p.add(f"{e.path}.changes.reinsert", "reinserts bring back deleted keys; set changes.delete > 0")
    for name in ("repeat", "late", "unchanged"):
        if getattr(ch, name) > 0 and not ch.update:
            p.add(f"{e.path}.changes.{name}", f"{name!r} shapes updates; set changes.update > 0")
    parent = e.rows.parent
    if parent is not None:
        if parent not in earlier:
            p.add(
                f"{e.path}.rows.per_parent", f"must name an entity listed before {e.name!r}, got {parent!r}"
            )
        if e.changes != ChangeRates():
            p.add(f"{e.path}.changes", "rows made per parent follow their parent; they take no change rates")
    for c in e.columns:
        _check_links(e, c, by_name, earlier, p)
    generation_order(e, p)


def _check_links(e, c, by_name, earlier, p: Problems) -> None:
    o = c.options
    if c.kind in _CHILD_KINDS and e.rows.parent is None:
        p.add(f"{c.path}.kind", f"{c.kind!r} needs rows.per_parent on the entity")
    if (
        c.kind == "parent"
        and e.rows.parent in earlier
        and o.get("column") not in earlier[e.rows.parent].column_names
    ):
        p.add(f"{c.path}.column", f"names no column of {e.rows.parent!r}: {o.get('column')!r}")
    if c.kind == "reference":
        target = earlier.get(o.get("entity"))
        if target is None:
            p.add(
                f"{c.path}.entity", f"must name an entity listed before {e.name!r}, got {o.get('entity')!r}"
            )
        elif not target.key or target.is_child:
            p.add(f"{c.path}.entity", f"{target.name!r} needs a 'key' and its own row count to be referenced")
        elif not target.time.history_days:
            p.add(
                f"{c.path}.entity",
                f"{target.name!r} has no rows before the first drop to refer to",
                f"set {target.path}.time.history_days",
            )
    if c.kind == "lookup":
        ref = by_name.get(o.get("reference"))
        if ref is None or ref.kind != "reference":
            p.add(f"{c.path}.reference", f"must name a reference column of {e.name!r}")
        elif (target := earlier.get(ref.options.get("entity"))) and o.get(
            "column"
        ) not in target.column_names:
            p.add(f"{c.path}.column", f"names no column of {target.name!r}: {o.get('column')!r}")
    for dep in column_deps(c.kind, o) if c.kind in ("faker", "choice", "email", "compose") else ():
        if dep not in by_name:
            p.add(c.path, f"depends on {dep!r}, which is no column of {e.name!r}")


def generation_order(e: EntitySettings, p: Problems | None = None) -> list[int]:
    """Column positions ordered so each column comes after the columns it is computed from."""
    index = {c.name: i for i, c in enumerate(e.columns)}
    ordered: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int) -> bool:
        if state.get(i) == 2:
            return True
        if state.get(i) == 1:
            return False
        state[i] = 1
        c = e.columns[i]
        for dep in column_deps(c.kind, c.options):
            if dep in index and not visit(index[dep]):
                if p is not None and state.get(i) != 3:
                    p.add(c.path, f"columns depend on each other in a cycle through {dep!r}")
                state[i] = 3
                return False
        state[i] = 2
        ordered.append(i)
        return True

    for i in range(len(e.columns)):
        visit(i)
    return ordered
