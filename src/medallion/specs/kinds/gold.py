"""Spec kind "gold": tables rebuilt from SQL files, listed in `gold_tables.csv`.

Each row names a table and a `.sql` file under `gold/`. The SQL reads other tables through
placeholders (`${silver}.fact_order`), which the runtime replaces with the target's schemas; the
checks make sure every referenced table exists and that gold tables do not read each other in a
cycle, and put the gold items in dependency order (a table after the gold tables it reads).

Optional `refresh_key` + `refresh_keys_sql` make the table refresh by key: a second
SQL file under `gold/` reads `${changes}.<silver table>` and returns the key values to rebuild
(docs/specs.md, "Refresh by key").
"""

from __future__ import annotations

import re

from medallion.errors import SpecProblem
from medallion.specs.cells import did_you_mean, relative_path
from medallion.specs.csv_rows import Row
from medallion.specs.model import GoldSpec
from medallion.specs.registry import Draft, SpecFile, SpecKind
from medallion.specs.sql_text import table_references

__all__ = ["CHANGES_PLACEHOLDER", "GOLD", "GOLD_FILE", "GOLD_SQL_FOLDER"]

GOLD_FILE = "gold_tables.csv"
GOLD_SQL_FOLDER = "gold"
CHANGES_PLACEHOLDER = "changes"  # `${changes}.<silver table>` in a keys SQL file
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parse_gold(row: Row, draft: Draft) -> None:
    sql_file = row.get("sql_file").replace("\\", "/")
    sql = ""
    upstream: list[tuple[str, str]] = []
    if sql_file and relative_path(row, "sql_file", sql_file, draft, f"a file under {GOLD_SQL_FOLDER}/"):
        sql = _read_gold_sql(row, sql_file, draft)
        display = draft.display(f"{GOLD_SQL_FOLDER}/{sql_file}")
        refs, problems = table_references(sql)
        for line, message, fix in problems:
            draft.problems.append(SpecProblem(display, line, "", message, fix))
        for ref in refs:
            pair = (ref.layer, ref.table)
            if pair not in upstream:
                upstream.append(pair)
    refresh_key, keys_file, keys_sql, changes_from = _parse_refresh(row, draft)
    draft.add(
        "gold",
        GoldSpec(
            table=row.get("table"),
            sql_file=sql_file,
            sql=sql,
            upstream=tuple(upstream),
            description=row.get("description"),
            row=row.number,
            refresh_key=refresh_key,
            keys_sql_file=keys_file,
            keys_sql=keys_sql,
            changes_from=changes_from,
        ),
    )


def _parse_refresh(row: Row, draft: Draft) -> tuple[str, str, str, tuple[str, ...]]:
    """`refresh_key` and `refresh_keys_sql`: both or neither; the keys SQL's `${changes}` tables."""
    key, keys_file = row.get("refresh_key"), row.get("refresh_keys_sql").replace("\\", "/")
    if not key and not keys_file:
        return "", "", "", ()
    if not keys_file or not key:
        missing = "refresh_keys_sql" if key else "refresh_key"
        draft.problems.append(
            row.problem(
                missing,
                f"{missing} is empty but {'refresh_key' if key else 'refresh_keys_sql'} is set",
                "set both to refresh this table by key (docs/specs.md), or neither to rebuild it whole",
            )
        )
        return "", "", "", ()
    if not _IDENTIFIER.match(key):
        draft.problems.append(
            row.problem(
                "refresh_key", f"{key!r} is not a column name", "name one column of the table's result"
            )
        )
    if not relative_path(row, "refresh_keys_sql", keys_file, draft, f"a file under {GOLD_SQL_FOLDER}/"):
        return key, "", "", ()
    keys_sql = _read_gold_sql(row, keys_file, draft, column="refresh_keys_sql")
    display = draft.display(f"{GOLD_SQL_FOLDER}/{keys_file}")
    refs, problems = table_references(keys_sql, extra_layers=(CHANGES_PLACEHOLDER,))
    for line, message, fix in problems:
        draft.problems.append(SpecProblem(display, line, "", message, fix))
    changes = tuple(dict.fromkeys(ref.table for ref in refs if ref.layer == CHANGES_PLACEHOLDER))
    if keys_sql.strip() and not changes and not problems:
        draft.problems.append(
            SpecProblem(
                display,
                0,
                "",
                "the keys SQL reads no ${changes}.<table>, so it cannot say which keys changed",
                "select the key from ${changes}.<silver table> (rows changed since the last build)",
            )
        )
    return key, keys_file, keys_sql, changes


def _read_gold_sql(row: Row, sql_file: str, draft: Draft, column: str = "sql_file") -> str:
    path = draft.specs_dir / GOLD_SQL_FOLDER / sql_file
    display = draft.display(f"{GOLD_SQL_FOLDER}/{sql_file}")
    if not sql_file.lower().endswith(".sql"):
        draft.problems.append(row.problem(column, f"{sql_file!r} is not a .sql file", "name a .sql file"))
        return ""
    if not path.is_file():
        draft.problems.append(
            row.problem(
                column,
                f"{display} not found",
                f"create it, or fix {column}: it is relative to {draft.display(GOLD_SQL_FOLDER)}/",
            )
        )
        return ""
    data = path.read_bytes()
    try:
        sql = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        draft.problems.append(SpecProblem(display, line, "", "not UTF-8 text", "save the file as UTF-8"))
        return ""
    if not sql.strip():
        draft.problems.append(
            SpecProblem(display, 0, "", "SQL file is empty", "write the SELECT that builds the table")
        )
    return sql


def check_gold(draft: Draft) -> None:
    """Gold SQL reads existing tables; the gold items come out in dependency order."""
    gold = {item.table.lower(): item for item in draft.of("gold")}
    known = {layer: dict.fromkeys(i.table.lower() for i in draft.of(layer)) for layer in ("bronze", "silver")}
    known["gold"] = dict.fromkeys(gold)
    for item in draft.of("gold"):
        for sql_file, sql in ((item.sql_file, item.sql), (item.keys_sql_file, item.keys_sql)):
            if not sql:
                continue
            refs, _ = table_references(sql, extra_layers=(CHANGES_PLACEHOLDER,))
            for ref in refs:
                if ref.layer == CHANGES_PLACEHOLDER:
                    _check_changes_ref(draft, item, sql_file, ref)
                elif draft.readable(ref.layer) and ref.table.lower() not in known[ref.layer]:
                    draft.problem(
                        f"{GOLD_SQL_FOLDER}/{sql_file}",
                        ref.line,
                        "",
                        f"${{{ref.layer}}}.{ref.table} is not a {ref.layer} table in the specs",
                        did_you_mean(ref.table, known[ref.layer], f"{ref.layer} tables"),
                    )
    draft.items["gold"] = list(_dependency_order(draft, gold))


def _check_changes_ref(draft: Draft, item: GoldSpec, sql_file: str, ref) -> None:
    """`${changes}.t`: t must be a silver table the gold SQL reads (its change feed is read)."""
    read = [table for layer, table in item.upstream if layer == "silver"]
    if ref.table.lower() in {t.lower() for t in read}:
        return
    draft.problem(
        f"{GOLD_SQL_FOLDER}/{sql_file}",
        ref.line,
        "",
        f"${{changes}}.{ref.table} is not a silver table that {item.sql_file} reads",
        did_you_mean(ref.table, read, f"silver tables {item.sql_file} reads"),
    )


def _dependency_order(draft: Draft, gold: dict[str, GoldSpec]) -> tuple[GoldSpec, ...]:
    """Stable topological order (CSV order among independent tables); cycles are reported."""
    reads = {
        name: [t.lower() for layer, t in item.upstream if layer == "gold" and t.lower() in gold]
        for name, item in gold.items()
    }
    ordered: list[str] = []
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for name in gold:
            if name not in done and all(dep in done for dep in reads[name]):
                ordered.append(name)
                done.add(name)
                progress = True
                break
    reported: set[frozenset[str]] = set()
    for name in gold:
        if name in done:
            continue
        cycle = _find_cycle(name, reads, done)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            first = min(cycle, key=lambda n: gold[n].row)
            start = cycle.index(first)
            path = [*cycle[start:], *cycle[:start], first]
            draft.problem(
                GOLD_FILE,
                gold[first].row,
                "table",
                f"gold tables read each other in a cycle: {' -> '.join(gold[n].table for n in path)}",
                "a gold table may only read gold tables that do not read it back",
            )
        ordered.append(name)
    return tuple(gold[name] for name in ordered)


def _find_cycle(start: str, reads: dict[str, list[str]], done: set[str]) -> list[str]:
    """A cycle reachable from `start` through unfinished tables, as a list of names."""
    path: list[str] = []
    on_path: set[str] = set()
    visited: set[str] = set()

    def walk(name: str) -> list[str]:
        if name in on_path:
            return path[path.index(name) :]
        if name in visited or name in done:
            return []
        visited.add(name)
        path.append(name)
        on_path.add(name)
        for dep in reads[name]:
            found = walk(dep)
            if found:
                return found
        path.pop()
        on_path.discard(name)
        return []

    return walk(start)


GOLD = SpecKind(
    name="gold",
    description="gold tables rebuilt from SQL files",
    files=(
        SpecFile(
            GOLD_FILE,
            required=("table", "sql_file"),
            optional=("description", "refresh_key", "refresh_keys_sql"),
            unique=("table",),
            identifiers=("table",),
            parse=_parse_gold,
            produces="gold",
        ),
    ),
    check=check_gold,
    after=("tables", "history"),
)
