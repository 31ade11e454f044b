"""The job's plan task: which tables the job builds, in which order, published as task values for
the for-each tasks; and the schemas they need."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence

from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.run_records import ensure_record_tables
from medallion.delta.tables import table_exists
from medallion.errors import ParameterError
from medallion.names import HIDDEN_FILE_PREFIXES, OPS, TABLE_PROPERTY_PREFIX
from medallion.specs.model import LAYERS, GoldSpec, SilverSpec, Specs

__all__ = [
    "GOLD_WAVES",
    "REFRESH_PROPERTY",
    "ensure_schemas",
    "gold_selection",
    "gold_waves",
    "landing_sizes",
    "mark_refreshed",
    "pending_refreshes",
    "reference_groups",
    "select_tables",
    "silver_build_order",
    "silver_stages",
    "silver_waves",
    "table_lists",
]

REFRESH_PROPERTY = f"{TABLE_PROPERTY_PREFIX}full_refresh"  # the full_refresh.csv request a table last did
# The gold notebook's `wave` widget: "" builds the tables of its `table` widget (all when empty),
# "on_gold" the tables built on other gold tables (the job's second gold wave).
GOLD_WAVES = ("", "on_gold")

# Files counted per landing folder when sizing it: enough to rank folders, and bounded, since on a
# volume every file's size is a call to the storage (a folder of years of daily drops stays cheap).
MAX_FILES_SIZED = 1_000

log = logging.getLogger(__name__)


def table_lists(specs: Specs, sizes: Mapping[str, int] | None = None) -> dict[str, list[str]]:
    """Task values: `bronze_tables`, `silver_reference_groups`, `silver_tables`, `gold_tables`,
    `gold_on_gold_tables`.

    Silver is built in two waves of groups (`silver_stages`), so that a table's foreign-key rules
    (`ref_table`) check against a table this run has already loaded, while the groups of a wave run
    side by side: "dim_customer,fact_order" is built in that order by one run. Neither list is empty
    while there are two silver tables or more (a for-each task needs inputs).

    Gold too: first the tables that read no other gold table, side by side (`gold_tables`, never
    empty while there are gold tables), then the ones built on gold tables, in dependency order, by
    one notebook run (`gold_on_gold_tables`, shown here; the notebook finds them in the specs).

    `sizes` (bronze table -> bytes in its landing folder, `landing_sizes`) estimates each table's
    work: bronze tables are listed largest first, so that with fewer slots than tables the longest
    starts first, and `silver_stages` chooses the silver waves by it. Without sizes every table
    weighs the same and the lists follow the specs.
    """
    size = _size_of(sizes)
    first, second = silver_stages(specs.silver, lambda t: size(t.source_table))
    on_silver, on_gold = gold_waves(specs.gold)
    return {
        "bronze_tables": [s.table for s in _largest_first(specs.bronze, lambda s: size(s.table))],
        "silver_reference_groups": [",".join(t.table for t in group) for group in first],
        "silver_tables": [",".join(t.table for t in group) for group in second],
        "gold_tables": [g.table for g in on_silver],
        "gold_on_gold_tables": [g.table for g in on_gold],
    }


def gold_waves(tables: tuple[GoldSpec, ...]) -> tuple[list[GoldSpec], list[GoldSpec]]:
    """(tables that read no other gold table; the rest), each in the specs' dependency order."""
    names = {t.table.lower() for t in tables}

    def on_gold(table: GoldSpec) -> bool:
        return any(
            layer == "gold" and name.lower() in names and name.lower() != table.table.lower()
            for layer, name in table.upstream
        )

    return [t for t in tables if not on_gold(t)], [t for t in tables if on_gold(t)]


def gold_selection(specs: Specs, table: str, wave: str) -> list[GoldSpec]:
    """The gold tables a run of the gold notebook builds, from its `table` and `wave` widgets."""
    if wave not in GOLD_WAVES:
        raise ParameterError(
            f"wave {wave!r} is not a gold wave; leave the 'wave' widget empty (the tables of 'table', "
            f"all when empty) or set it to 'on_gold' (the tables built on other gold tables)"
        )
    if wave == "on_gold":
        return gold_waves(specs.gold)[1]
    return select_tables(specs.gold, table)


def silver_stages(
    tables: tuple[SilverSpec, ...], weight: Callable[[SilverSpec], float] | None = None
) -> tuple[list[list[SilverSpec]], list[list[SilverSpec]]]:
    """The job's two silver waves as groups: each group is built in order by one run, the groups of
    a wave side by side, the second wave after the first. A table's rules read only tables of an
    earlier wave or earlier in its own group, so a foreign key checks against a table this run has
    loaded.

    Two layouts qualify; the one whose estimate (the heaviest group of each wave, by `weight`) is
    lower wins, the first on a tie:
    - the tables other tables' rules read (`reference_groups`), then every other table alone;
    - the read tables that read no other table, each alone, then the rest in groups linked by their
      rules (`fact_order,fact_order_line`): a chain of facts then waits for the dimensions only,
      not for a dimension's group, and runs beside the facts outside it.
    Within a wave the heaviest group comes first.
    """
    weigh = weight or (lambda _: 1.0)
    references, others = silver_waves(tables)
    candidates = [(reference_groups(references, tables), [[t] for t in others])]
    read = {ref for table in tables for ref in _references(table, tables)}
    ordered = silver_build_order(tables)
    roots = [t for t in ordered if t.table.lower() in read and not _references(t, tables)]
    if roots:
        rest = [t for t in ordered if t not in roots]
        candidates.append(([[t] for t in roots], reference_groups(rest, tables)))

    def group_weight(group: list[SilverSpec]) -> float:
        return sum(weigh(t) for t in group)

    def estimate(waves: tuple[list[list[SilverSpec]], ...]) -> float:
        return sum(max((group_weight(g) for g in wave), default=0.0) for wave in waves)

    first, second = min(candidates, key=estimate)  # min keeps the first of equals
    return _largest_first(first, group_weight), _largest_first(second, group_weight)


def landing_sizes(ctx: RunContext, specs: Specs) -> dict[str, int]:
    """Bronze table -> bytes of the files in its landing folder (at most MAX_FILES_SIZED files
    counted): the plan's estimate of each table's work. A folder the file system cannot list (a cloud
    URL rather than a volume path) counts 0, so the lists keep the specs' order."""
    return {source.table: _folder_bytes(ctx.landing(source.landing_folder)) for source in specs.bronze}


def _folder_bytes(root: str) -> int:
    """Bytes of the first MAX_FILES_SIZED files under `root` that are not hidden (HIDDEN_FILE_PREFIXES)."""
    total, counted = 0, 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(HIDDEN_FILE_PREFIXES)]
        for name in files:
            if counted >= MAX_FILES_SIZED:
                return total
            if name.startswith(HIDDEN_FILE_PREFIXES):
                continue
            try:
                total += os.path.getsize(os.path.join(folder, name))
            except OSError:  # removed while listed
                continue
            counted += 1
    return total


def _size_of(sizes: Mapping[str, int] | None) -> Callable[[str], float]:
    """A table's weight: its size, or 1 when unknown or empty (all equal: the specs' order stays)."""
    by_name = {name.lower(): value for name, value in (sizes or {}).items()}
    return lambda name: float(by_name.get(name.lower()) or 1)


def _largest_first[T](items: Sequence[T], weight: Callable[[T], float]) -> list[T]:
    """Heaviest first; equals keep their order."""
    return sorted(items, key=lambda item: -weight(item))


def silver_waves(tables: tuple[SilverSpec, ...]) -> tuple[list[SilverSpec], list[SilverSpec]]:
    """(tables another table's rules read, in build order; the rest). When no rule reads another
    table, the first table moves to the first wave; when every table is read (rules that read each
    other in a ring), the last one in build order moves to the second: neither is empty while there
    are two tables or more."""
    ordered = silver_build_order(tables)
    read = {ref for table in tables for ref in _references(table, tables)}
    references = [t for t in ordered if t.table.lower() in read]
    others = [t for t in ordered if t.table.lower() not in read]
    if not references and others:
        references.append(others.pop(0))
    if not others and len(references) > 1:  # only a ring reads it: it is built last either way
        others.append(references.pop())
    return references, others


def reference_groups(references: list[SilverSpec], tables: tuple[SilverSpec, ...]) -> list[list[SilverSpec]]:
    """`references` split into groups with no rule reading across them (the tables linked by rules,
    directly or through each other), each in build order: one group's tables are built one after
    another, the groups side by side."""
    names = {t.table.lower() for t in references}
    group_of = {name: name for name in names}  # union-find over the references between them

    def root(name: str) -> str:
        while group_of[name] != name:
            name = group_of[name]
        return name

    for table in references:
        for ref in _references(table, tables):
            if ref in names:
                group_of[root(ref)] = root(table.table.lower())
    groups: dict[str, list[SilverSpec]] = {}
    for table in references:  # build order within a group, groups by their first table
        groups.setdefault(root(table.table.lower()), []).append(table)
    return list(groups.values())


def silver_build_order(tables: tuple[SilverSpec, ...]) -> list[SilverSpec]:
    """Spec order, except that a table referenced by another's rules (`ref_table`) comes first."""
    by_name = {t.table.lower(): t for t in tables}
    ordered: list[SilverSpec] = []
    visiting: set[str] = set()

    def visit(table: SilverSpec) -> None:
        name = table.table.lower()
        if table in ordered or name in visiting:
            return  # placed already, or a reference cycle: keep spec order
        visiting.add(name)
        for ref in _references(table, tables):
            visit(by_name[ref])
        visiting.discard(name)
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def _references(table: SilverSpec, tables: tuple[SilverSpec, ...]) -> list[str]:
    """The other silver tables (lower case) the table's rules read, in rule order."""
    names = {t.table.lower() for t in tables}
    found: dict[str, None] = {}
    for rule in table.rules:
        ref = rule.check.get("check", {}).get("arguments", {}).get("ref_table")
        if isinstance(ref, str) and ref.lower() in names and ref.lower() != table.table.lower():
            found[ref.lower()] = None
    return list(found)


def ensure_schemas(spark: SparkSession, ctx: RunContext) -> None:
    """Create the layer schemas and the ops schema with its record tables if they are missing (the
    catalog must exist)."""
    for layer in (*LAYERS, OPS):
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema(layer)}")
        log.info("schema %s ready", ctx.schema(layer))
    ensure_record_tables(spark, ctx)


def select_tables(items: tuple, wanted: str, widget: str = "table") -> list:
    """The spec objects named in `wanted` (comma separated); empty means all of them."""
    names = [n.strip() for n in wanted.replace(";", ",").split(",") if n.strip()]
    if not names:
        return list(items)
    by_name = {item.table: item for item in items}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ParameterError(
            f"table {', '.join(unknown)} is not in the specs for this layer "
            f"(known: {', '.join(by_name) or 'none'}); fix the '{widget}' widget or add the table to the specs"
        )
    return [by_name[n] for n in names]


def pending_refreshes(spark: SparkSession, ctx: RunContext, specs: Specs) -> dict[str, str]:
    """Silver table -> fingerprint of its `full_refresh.csv` row, for the rows this table has not done
    yet (a breaking spec change acknowledged in the specs is applied by exactly one run)."""
    pending = {}
    for request in specs.of("full_refresh"):
        table = next((t.table for t in specs.silver if t.table.lower() == request.table.lower()), None)
        if table is None:
            continue
        name = ctx.table("silver", table)
        done = ""
        if table_exists(spark, name):
            rows = spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
            done = next((r["value"] for r in rows if r["key"] == REFRESH_PROPERTY), "")
        if done != request.fingerprint:
            pending[table] = request.fingerprint
    return pending


def mark_refreshed(spark: SparkSession, ctx: RunContext, table: str, fingerprint: str) -> None:
    """Record on the table that it did the `full_refresh.csv` request `fingerprint`."""
    quoted = fingerprint.replace("\\", "\\\\").replace("'", "\\'")
    spark.sql(
        f"ALTER TABLE {ctx.table('silver', table)} SET TBLPROPERTIES ('{REFRESH_PROPERTY}' = '{quoted}')"
    )
    log.warning("silver %s: rebuilt from bronze as specs/full_refresh.csv asks (done once)", table)
