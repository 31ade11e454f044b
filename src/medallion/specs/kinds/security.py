"""Spec kind "security": Unity Catalog protection declared in `specs/security/` (all files optional).

- `column_masks.csv`: table, column, mask (a kind from `MASK_KINDS`), argument, exempt_groups,
  using_columns, description. One mask per column.
- `row_filters.csv`: table, group, predicate (SQL over the table's columns, or `all_rows`),
  description. The rows of one table become its one row filter.
- `tags.csv`: table, column (empty = the table), tag_key, tag_value.
- `grants.csv`: principal, securable_type, name, privileges.

Tables are named `table` or `layer.table`. Checks fail closed: a column tagged as personal data
(`PII_TAG`) needs a mask. Objects come out as one `SecuritySpec` under the item key "security".
"""

from __future__ import annotations

import re
from dataclasses import replace

from medallion.specs.cells import IDENTIFIER, IDENTIFIER_FIX, choice, did_you_mean, name_list
from medallion.specs.csv_rows import Row
from medallion.specs.gold_lineage import check_gold_lineage
from medallion.specs.registry import Draft, SpecFile, SpecKind
from medallion.specs.security_model import (
    MASK_KINDS,
    PRIVILEGES,
    SECURABLE_TYPES,
    ColumnMask,
    Grant,
    RowFilter,
    SecuritySpec,
    Tag,
)
from medallion.specs.sql_text import (
    expression_problems,
    outer_column_references,
    table_references,
)

__all__ = ["ALL_ROWS", "PII_TAG", "SECURITY", "SECURITY_FOLDER"]

SECURITY_FOLDER = "security"
MASKS_FILE = f"{SECURITY_FOLDER}/column_masks.csv"
FILTERS_FILE = f"{SECURITY_FOLDER}/row_filters.csv"
TAGS_FILE = f"{SECURITY_FOLDER}/tags.csv"
GRANTS_FILE = f"{SECURITY_FOLDER}/grants.csv"
ALL_ROWS = "all_rows"  # a row filter predicate: members of the group see every row
PII_TAG = ("class", "pii")  # a column with this tag must have a mask (fail closed)
TABLE_LAYERS = ("bronze", "silver", "gold")
MAX_TAGS = 50  # per securable object (Unity Catalog)
_TAG_KEY_FORBIDDEN = re.compile(r"[.,\-=/:]")
_PRINCIPAL = re.compile(r"^[^`'\"\s](?:[^`'\"]{0,253}[^`'\"\s])?$")


def _parse_mask(row: Row, draft: Draft) -> None:
    kind = choice(row, "mask", MASK_KINDS, draft, fix=f"use one of: {', '.join(MASK_KINDS)}")
    argument = row.get("argument")
    if kind == "partial" and not (argument.isdigit() and int(argument) > 0):
        draft.problems.append(
            row.problem(
                "argument", f"partial needs the number of characters to keep, got {argument!r}", "e.g. 4"
            )
        )
    if kind == "sql":
        if not argument:
            draft.problems.append(
                row.problem("argument", "mask sql needs an expression", "e.g. concat('***', right(value, 2))")
            )
        for message, fix in expression_problems(argument):
            draft.problems.append(row.problem("argument", message, fix))
    groups = _principals(row, "exempt_groups", draft)
    draft.add(
        "security_masks",
        ColumnMask(
            table=row.get("table"),
            column=row.get("column"),
            kind=kind,
            argument=argument,
            exempt_groups=groups,
            using_columns=name_list(row, "using_columns", draft),
            description=row.get("description"),
            row=row.number,
        ),
    )


def _parse_filter(row: Row, draft: Draft) -> None:
    group = row.get("group")
    if group:
        _check_principal(row, "group", group, "group", draft)
    predicate = row.get("predicate")
    if predicate.lower() != ALL_ROWS:
        for message, fix in expression_problems(predicate):
            draft.problems.append(row.problem("predicate", message, fix))
    draft.add(
        "security_filters",
        RowFilter(
            table=row.get("table"),
            group=group,
            predicate=None if predicate.lower() == ALL_ROWS else predicate,
            description=row.get("description"),
            row=row.number,
        ),
    )


def _parse_tag(row: Row, draft: Draft) -> None:
    key, value = row.get("tag_key"), row.get("tag_value")
    if len(key) > 255 or _TAG_KEY_FORBIDDEN.search(key) or key != key.strip():
        draft.problems.append(
            row.problem(
                "tag_key",
                f"{key!r} is not a Unity Catalog tag key",
                "at most 255 characters, none of . , - = / : and no leading or trailing space",
            )
        )
    if len(value) > 1000:
        draft.problems.append(row.problem("tag_value", "a tag value has at most 1000 characters"))
    column = row.get("column")
    if column and not IDENTIFIER.match(column):
        draft.problems.append(row.problem("column", f"{column!r} is not a valid column name", IDENTIFIER_FIX))
    draft.add("security_tags", Tag(row.get("table"), column, key, value, row.number))


def _parse_grant(row: Row, draft: Draft) -> None:
    principal = row.get("principal")
    _check_principal(row, "principal", principal, "principal", draft)
    kind = choice(row, "securable_type", SECURABLE_TYPES, draft)
    privileges: list[str] = []
    for item in re.split(r"[,;]", row.get("privileges")):
        word = " ".join(item.split()).upper()
        if not word:
            continue
        allowed = PRIVILEGES.get(kind, ())
        if kind in PRIVILEGES and word not in allowed:
            draft.problems.append(
                row.problem(
                    "privileges",
                    f"{word} is not a privilege on a {kind}",
                    did_you_mean(word, allowed, f"privileges on a {kind}"),
                )
            )
        elif word in privileges:
            draft.problems.append(
                row.problem("privileges", f"{word} is listed twice", "list each privilege once")
            )
        else:
            privileges.append(word)
    if not privileges and row.get("privileges"):
        return
    draft.add("security_grants", Grant(principal, kind, row.get("name"), tuple(privileges), row.number))


_PRINCIPAL_FIX = "a group, user e-mail or service principal id: no quotes or backticks, no outer spaces"


def _check_principal(row: Row, column: str, name: str, what: str, draft: Draft) -> bool:
    """A well-formed principal name; a bad one is reported at its cell."""
    if _PRINCIPAL.match(name):
        return True
    draft.problems.append(row.problem(column, f"{name!r} is not a {what} name", _PRINCIPAL_FIX))
    return False


def _principals(row: Row, column: str, draft: Draft) -> tuple[str, ...]:
    names: list[str] = []
    for item in re.split(r"[,;]", row.get(column)):
        name = item.strip()
        if not name:
            continue
        if _check_principal(row, column, name, "group", draft) and name not in names:
            names.append(name)
    return tuple(names)


class _Tables:
    """Table names of the specs by layer, and the declared columns (and types) of each."""

    def __init__(self, draft: Draft):
        self.columns: dict[str, dict[str, str] | None] = {}
        for layer in TABLE_LAYERS:
            for item in draft.of(layer):
                declared = getattr(item, "columns", None)
                columns = None
                if declared:
                    columns = {c.name.lower(): c.data_type.split("(")[0].lower() for c in declared}
                    scd = getattr(item, "scd", None)
                    if scd is not None and scd.scd_type == 2:
                        sequence = columns.get(item.sequence_by[0].lower(), "") if item.sequence_by else ""
                        columns[scd.effective_from_column.lower()] = sequence
                        columns[scd.effective_to_column.lower()] = sequence
                        columns[scd.is_current_column.lower()] = "boolean"
                self.columns[f"{layer}.{item.table.lower()}"] = columns

    def resolve(self, draft: Draft, file: str, row: int, name: str) -> str | None:
        """`layer.table` for a `table` or `layer.table` cell, or None (reported)."""
        wanted = name.lower()
        if "." in wanted:
            found = [wanted] if wanted in self.columns else []
        else:
            found = [key for key in self.columns if key.split(".", 1)[1] == wanted]
        if len(found) == 1:
            return found[0]
        if found:
            draft.problem(
                file, row, "table", f"{name!r} is a table in several layers", f"write {' or '.join(found)}"
            )
        else:
            short = [key.split(".", 1)[1] for key in self.columns]
            draft.problem(file, row, "table", f"unknown table {name!r}", did_you_mean(name, short, "tables"))
        return None

    def column_type(self, draft: Draft, file: str, row: int, table: str, column: str, cell: str = "column"):
        """The declared type of `column` ("" when the table's columns are not declared, e.g. gold);
        None when the table has no such column (reported)."""
        columns = self.columns[table]
        if columns is None:
            return ""
        if column.lower() in columns:
            return columns[column.lower()]
        draft.problem(
            file,
            row,
            cell,
            f"{table} has no column {column!r}",
            did_you_mean(column, list(columns), "columns"),
        )
        return None


def check_security(draft: Draft) -> None:
    """Resolve table names, check columns, types, duplicates and fail-closed tags; build `SecuritySpec`."""
    tables = _Tables(draft)
    masks = _check_masks(draft, tables)
    check_gold_lineage(draft, tables.columns, masks)  # gold SQL must not leak a masked column
    filters = _check_filters(draft, tables)
    tags = _check_tags(draft, tables, masks)
    grants = _check_grants(draft, tables)
    draft.items["security"] = [SecuritySpec(tuple(masks), tuple(filters), tuple(tags), tuple(grants))]


def _check_masks(draft: Draft, tables: _Tables) -> list[ColumnMask]:
    masks = []
    for mask in draft.of("security_masks"):
        table = tables.resolve(draft, MASKS_FILE, mask.row, mask.table)
        if table is None:
            continue
        data_type = tables.column_type(draft, MASKS_FILE, mask.row, table, mask.column)
        if data_type is None:
            continue
        fits = MASK_KINDS.get(mask.kind, ())
        if data_type and fits and data_type not in fits:
            draft.problem(
                MASKS_FILE,
                mask.row,
                "mask",
                f"mask {mask.kind} gives a {'/'.join(fits)} but {table}.{mask.column} is {data_type}",
                "choose a mask for that type (null fits any), or write it with mask sql",
            )
        for column in mask.using_columns:
            tables.column_type(draft, MASKS_FILE, mask.row, table, column, cell="using_columns")
        masks.append(replace(mask, table=table, data_type=data_type))
    return masks


def _check_filters(draft: Draft, tables: _Tables) -> list[RowFilter]:
    filters = []
    for row_filter in draft.of("security_filters"):
        table = tables.resolve(draft, FILTERS_FILE, row_filter.row, row_filter.table)
        if table is None:
            continue
        for ref in outer_column_references(row_filter.predicate or ""):
            if len(ref.parts) == 1:
                tables.column_type(draft, FILTERS_FILE, row_filter.row, table, ref.parts[0], cell="predicate")
        _check_lookups(draft, tables, row_filter)
        filters.append(replace(row_filter, table=table))
    return filters


def _check_lookups(draft: Draft, tables: _Tables, row_filter: RowFilter) -> None:
    """A predicate may look rows up in another table (`${silver}.dim_customer`): the placeholder and
    the table must exist."""
    refs, problems = table_references(row_filter.predicate or "")
    for _, message, fix in problems:
        draft.problem(FILTERS_FILE, row_filter.row, "predicate", message, fix)
    for ref in refs:
        if f"{ref.layer}.{ref.table}".lower() not in tables.columns:
            known = [key.split(".", 1)[1] for key in tables.columns if key.startswith(f"{ref.layer}.")]
            draft.problem(
                FILTERS_FILE,
                row_filter.row,
                "predicate",
                f"the predicate reads ${{{ref.layer}}}.{ref.table}, which is not a {ref.layer} table",
                did_you_mean(ref.table, known, "tables"),
            )


def _check_tags(draft: Draft, tables: _Tables, masks: list[ColumnMask]) -> list[Tag]:
    tags, per_object = [], {}
    masked = {(m.table, m.column.lower()) for m in masks}
    for tag in draft.of("security_tags"):
        table = tables.resolve(draft, TAGS_FILE, tag.row, tag.table)
        if table is None:
            continue
        if tag.column and tables.column_type(draft, TAGS_FILE, tag.row, table, tag.column) is None:
            continue
        target = (table, tag.column.lower())
        per_object[target] = per_object.get(target, 0) + 1
        if per_object[target] == MAX_TAGS + 1:
            draft.problem(TAGS_FILE, tag.row, "tag_key", f"more than {MAX_TAGS} tags on one object")
        if (tag.key.lower(), tag.value.lower()) == PII_TAG and target not in masked:
            what = f"{table}.{tag.column}" if tag.column else table
            draft.problem(
                TAGS_FILE,
                tag.row,
                "tag_value",
                f"{what} is tagged {PII_TAG[0]}={PII_TAG[1]} but has no mask",
                f"add a row for it to {draft.display(MASKS_FILE)} (fail closed: personal data is masked)",
            )
        tags.append(replace(tag, table=table))
    return tags


def _check_grants(draft: Draft, tables: _Tables) -> list[Grant]:
    grants = []
    for grant in draft.of("security_grants"):
        name = grant.name
        if grant.securable_type == "table":
            resolved = tables.resolve(draft, GRANTS_FILE, grant.row, name)
            if resolved is None:
                continue
            name = resolved
        elif grant.securable_type == "schema" and name.lower() not in TABLE_LAYERS:
            draft.problem(
                GRANTS_FILE,
                grant.row,
                "name",
                f"unknown schema {name!r}",
                f"name a layer: {', '.join(TABLE_LAYERS)}",
            )
            continue
        elif grant.securable_type == "catalog" and name.lower() not in ("", "catalog"):
            draft.problem(
                GRANTS_FILE,
                grant.row,
                "name",
                f"{name!r}: a grant on the catalog is on the target's catalog",
                "leave name empty or write catalog (the catalog is a bundle variable per target)",
            )
            continue
        elif grant.securable_type == "volume" and not re.match(
            r"^(bronze|silver|gold)\.[A-Za-z_]\w*$", name, re.I
        ):
            draft.problem(
                GRANTS_FILE, grant.row, "name", f"{name!r} is not layer.volume", "e.g. bronze.landing"
            )
            continue
        grants.append(replace(grant, name=name.lower() if grant.securable_type == "schema" else name))
    return grants


SECURITY = SpecKind(
    name="security",
    description="Unity Catalog column masks, row filters, tags and grants",
    files=(
        SpecFile(
            MASKS_FILE,
            required=("table", "column", "mask"),
            optional=("argument", "exempt_groups", "using_columns", "description"),
            unique=("table", "column"),
            identifiers=("column",),
            parse=_parse_mask,
            produces="security_masks",
            may_be_missing=True,
        ),
        SpecFile(
            FILTERS_FILE,
            required=("table", "group", "predicate"),
            optional=("description",),
            unique=("table", "group"),
            identifiers=(),
            parse=_parse_filter,
            produces="security_filters",
            may_be_missing=True,
        ),
        SpecFile(
            TAGS_FILE,
            required=("table", "tag_key"),
            optional=("column", "tag_value"),
            unique=("table", "column", "tag_key"),
            identifiers=(),
            parse=_parse_tag,
            produces="security_tags",
            may_be_missing=True,
        ),
        SpecFile(
            GRANTS_FILE,
            required=("principal", "securable_type", "privileges"),
            optional=("name",),
            unique=("principal", "securable_type", "name"),
            identifiers=(),
            parse=_parse_grant,
            produces="security_grants",
            may_be_missing=True,
        ),
    ),
    check=check_security,
    after=("tables", "history", "gold"),
)
