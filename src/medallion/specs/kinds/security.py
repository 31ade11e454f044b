"""Spec kind "security": Unity Catalog protection declared in `specs/security/` (all files optional).

- `column_masks.csv`: table, column, mask (a kind from `MASK_KINDS`), argument, exempt_groups,
  using_columns, description. One mask per column.
- `row_filters.csv`: table, group, predicate (SQL over the table's columns, or `all_rows`),
  description. The rows of one table become its one row filter.
- `tags.csv`: table, column (empty = the table), tag_key, tag_value.
- `grants.csv`: principal, securable_type, name, privileges.
- `policies.csv`: ABAC mask policies by tag (specs/kinds/security_policies.py).

Tables are named `table` or `layer.table`. Checks fail closed: a column tagged as personal data
(`PII_TAG`) needs a mask. Objects come out as one `SecuritySpec` under the item key "security".
"""

from __future__ import annotations

import re
from dataclasses import replace

from medallion.specs.cells import IDENTIFIER, IDENTIFIER_FIX, choice, did_you_mean, name_list
from medallion.specs.csv_rows import Row
from medallion.specs.gold_lineage import check_gold_lineage
from medallion.specs.kinds.security_cells import (
    TABLE_LAYERS,
    SpecTables,
    check_mask_argument,
    check_principal,
    principals,
)
from medallion.specs.kinds.security_policies import POLICIES_FILE, POLICY_FILE_SPEC, expand_policies
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
    mask_type_problem,
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
MAX_TAGS = 50  # per securable object (Unity Catalog)
_TAG_KEY_FORBIDDEN = re.compile(r"[.,\-=/:]")


def _parse_mask(row: Row, draft: Draft) -> None:
    kind = choice(row, "mask", MASK_KINDS, draft, fix=f"use one of: {', '.join(MASK_KINDS)}")
    argument = row.get("argument")
    check_mask_argument(row, kind, argument, draft)
    groups = principals(row, "exempt_groups", draft)
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
        check_principal(row, "group", group, "group", draft)
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
    check_principal(row, "principal", principal, "principal", draft)
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


def check_security(draft: Draft) -> None:
    """Resolve table names, check columns, types, duplicates and fail-closed tags; build `SecuritySpec`."""
    tables = SpecTables(draft)
    masks = _check_masks(draft, tables)
    filters = _check_filters(draft, tables)
    tags = _check_tags(draft, tables)
    policies, policy_masks = expand_policies(draft, tables, masks, tags)
    masks += policy_masks
    _check_personal_data(draft, tags, masks)
    check_gold_lineage(draft, tables.columns, masks)  # gold SQL must not leak a masked column
    grants = _check_grants(draft, tables)
    draft.items["security"] = [
        SecuritySpec(tuple(masks), tuple(filters), tuple(tags), tuple(grants), tuple(policies))
    ]


def _check_masks(draft: Draft, tables: SpecTables) -> list[ColumnMask]:
    masks = []
    for mask in draft.of("security_masks"):
        table = tables.resolve(draft, MASKS_FILE, mask.row, mask.table)
        if table is None:
            continue
        data_type = tables.column_type(draft, MASKS_FILE, mask.row, table, mask.column)
        if data_type is None:
            continue
        problem = mask_type_problem(mask.kind, data_type, f"{table}.{mask.column}")
        if problem:
            draft.problem(MASKS_FILE, mask.row, "mask", *problem)
        for column in mask.using_columns:
            tables.column_type(draft, MASKS_FILE, mask.row, table, column, cell="using_columns")
        masks.append(replace(mask, table=table, data_type=data_type))
    return masks


def _check_filters(draft: Draft, tables: SpecTables) -> list[RowFilter]:
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


def _check_lookups(draft: Draft, tables: SpecTables, row_filter: RowFilter) -> None:
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


def _check_tags(draft: Draft, tables: SpecTables) -> list[Tag]:
    tags, per_object = [], {}
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
        tags.append(replace(tag, table=table))
    return tags


def _check_personal_data(draft: Draft, tags: list[Tag], masks: list[ColumnMask]) -> None:
    """Fail closed: a column tagged as personal data needs a mask (its own, or a policy's)."""
    masked = {(m.table, m.column.lower()) for m in masks}
    for tag in tags:
        if (tag.key.lower(), tag.value.lower()) == PII_TAG and (tag.table, tag.column.lower()) not in masked:
            what = f"{tag.table}.{tag.column}" if tag.column else tag.table
            draft.problem(
                TAGS_FILE,
                tag.row,
                "tag_value",
                f"{what} is tagged {PII_TAG[0]}={PII_TAG[1]} but has no mask",
                f"add a row for it to {draft.display(MASKS_FILE)} or a policy to "
                f"{draft.display(POLICIES_FILE)} (fail closed: personal data is masked)",
            )


def _check_grants(draft: Draft, tables: SpecTables) -> list[Grant]:
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
    description="Unity Catalog column masks, row filters, tags, grants and ABAC mask policies",
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
        POLICY_FILE_SPEC,
    ),
    check=check_security,
    after=("tables", "history", "gold"),
)
