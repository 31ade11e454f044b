"""`specs/security/policies.csv` (optional): ABAC column-mask policies, one mask for every column that
carries a tag in a layer's schema or the whole catalog (Unity Catalog `CREATE POLICY`, DBR 16.4+).

Columns: name, scope (`catalog` or a layer), tag_key, tag_value, mask, argument, exempt_groups,
description. A policy is checked against the tags it matches: it must match at least one column, the
mask must fit each column's type (one type per policy: one function), and a column is masked once,
by a policy or by column_masks.csv. Each match becomes a `ColumnMask` with `policy` set, so what a
persona sees, the table guard and the gold lineage check treat it like any mask; a target with
`security_mode=policies` creates the policy itself instead (medallion.security.reconcile).
"""

from __future__ import annotations

from dataclasses import replace

from medallion.specs.cells import IDENTIFIER, IDENTIFIER_FIX, choice
from medallion.specs.csv_rows import Row
from medallion.specs.kinds.security_cells import TABLE_LAYERS, SpecTables, check_mask_argument, principals
from medallion.specs.registry import Draft, SpecFile
from medallion.specs.security_model import MASK_KINDS, ColumnMask, MaskPolicy, Tag, mask_type_problem

__all__ = ["POLICIES_FILE", "POLICY_FILE_SPEC", "POLICY_SCOPES", "expand_policies"]

POLICIES_FILE = "security/policies.csv"
POLICY_SCOPES = ("catalog", *TABLE_LAYERS)


def _parse_policy(row: Row, draft: Draft) -> None:
    name = row.get("name")
    if not IDENTIFIER.match(name):
        draft.problems.append(row.problem("name", f"{name!r} is not a valid policy name", IDENTIFIER_FIX))
    scope = choice(row, "scope", POLICY_SCOPES, draft, fix=f"use one of: {', '.join(POLICY_SCOPES)}")
    kind = choice(row, "mask", MASK_KINDS, draft, fix=f"use one of: {', '.join(MASK_KINDS)}")
    argument = row.get("argument")
    check_mask_argument(row, kind, argument, draft)
    draft.add(
        "security_policies",
        MaskPolicy(
            name=name,
            scope=(scope or "").lower(),
            tag_key=row.get("tag_key"),
            tag_value=row.get("tag_value"),
            kind=kind,
            argument=argument,
            exempt_groups=principals(row, "exempt_groups", draft),
            description=row.get("description"),
            row=row.number,
        ),
    )


POLICY_FILE_SPEC = SpecFile(
    POLICIES_FILE,
    required=("name", "scope", "tag_key", "tag_value", "mask"),
    optional=("argument", "exempt_groups", "description"),
    unique=("name",),
    identifiers=(),
    parse=_parse_policy,
    produces="security_policies",
    may_be_missing=True,
)


def expand_policies(
    draft: Draft, tables: SpecTables, masks: list[ColumnMask], tags: list[Tag]
) -> tuple[list[MaskPolicy], list[ColumnMask]]:
    """The checked policies and the column mask each gives each column it matches."""
    explicit = {(m.table, m.column.lower()): m for m in masks}
    by_column: dict[tuple[str, str], MaskPolicy] = {}
    policies, derived = [], []
    for policy in draft.of("security_policies"):
        matched = [
            t
            for t in tags
            if t.column
            and (t.key, t.value) == (policy.tag_key, policy.tag_value)
            and (policy.scope == "catalog" or t.table.split(".", 1)[0] == policy.scope)
        ]
        if not matched:
            draft.problem(
                POLICIES_FILE,
                policy.row,
                "tag_value",
                f"policy {policy.name} matches no column tagged {policy.tag_key}={policy.tag_value} "
                f"in {policy.scope}",
                "tag the columns it should mask in security/tags.csv, or fix the tag or scope",
            )
            continue
        types: dict[str, str] = {}
        for tag in matched:
            where = (tag.table, tag.column.lower())
            if where in explicit:
                draft.problem(
                    POLICIES_FILE,
                    policy.row,
                    "tag_value",
                    f"{tag.table}.{tag.column} is masked by policy {policy.name} and by "
                    f"security/column_masks.csv row {explicit[where].row}",
                    "keep one: remove the column_masks.csv row or change the column's tag",
                )
            elif where in by_column:
                draft.problem(
                    POLICIES_FILE,
                    policy.row,
                    "tag_value",
                    f"{tag.table}.{tag.column} is matched by policies {by_column[where].name} and {policy.name}",
                    "one policy per column: narrow the tag or the scope",
                )
            types[f"{tag.table}.{tag.column}"] = (
                tables.column_type(draft, POLICIES_FILE, policy.row, tag.table, tag.column, cell="tag_value")
                or ""
            )
        problem = _type_problem(policy, types)
        if problem:
            draft.problem(POLICIES_FILE, policy.row, "mask", *problem)
            continue
        checked = replace(policy, data_type=next(iter(set(types.values())), ""))
        policies.append(checked)
        for tag in matched:
            where = (tag.table, tag.column.lower())
            if where in explicit or where in by_column:
                continue
            by_column[where] = checked
            derived.append(
                ColumnMask(
                    table=tag.table,
                    column=tag.column,
                    kind=policy.kind,
                    data_type=checked.data_type,
                    argument=policy.argument,
                    exempt_groups=policy.exempt_groups,
                    description=policy.description or f"policy {policy.name}",
                    row=policy.row,
                    policy=policy.name,
                )
            )
    return policies, derived


def _type_problem(policy: MaskPolicy, types: dict[str, str]) -> tuple[str, str] | None:
    """(message, fix) when the matched columns do not share one type the mask can give."""
    distinct = sorted({t for t in types.values() if t})
    if len(distinct) > 1:
        listed = ", ".join(f"{column} {t}" for column, t in sorted(types.items()))
        return (
            f"policy {policy.name} matches columns of several types ({listed}); its function has one",
            "split it: one policy per type, each with its own tag value",
        )
    if not distinct:
        return None
    return mask_type_problem(policy.kind, distinct[0], f"each column policy {policy.name} matches")
