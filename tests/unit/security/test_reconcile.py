"""Reconcile: from an empty workspace, from the desired state, and from drift, exactly the statements
needed; every generated function parses with an independent Databricks SQL parser (sqlglot), and the
demo's statements are kept in a golden file for review (`UPDATE_GOLDEN=1` rewrites it)."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from medallion.security.reconcile import SecurityState, desired_state, plan
from medallion.security.statements import SecurableNames
from medallion.specs import load_specs

GOLDEN = Path(__file__).with_name("golden") / "demo_statements.sql"
NAMES = SecurableNames(
    "main", {"bronze": "sales_bronze", "silver": "sales_silver", "gold": "sales_gold"}, "sales_security"
)
DIM = "`main`.`sales_silver`.`dim_customer`"
EMAIL_MASK = "`main`.`sales_security`.`medallion_mask_dim_customer_email`"
# The grammar of the statements sqlglot keeps as an opaque command (it parses CREATE FUNCTION fully).
NAME = r"`[^`]+`(?:\.`[^`]+`)*"
COMMANDS = [
    rf"ALTER TABLE {NAME} ALTER COLUMN {NAME} SET MASK {NAME}( USING COLUMNS \({NAME}(, {NAME})*\))?",
    rf"ALTER TABLE {NAME} ALTER COLUMN {NAME} DROP MASK",
    rf"ALTER TABLE {NAME} SET ROW FILTER {NAME} ON \(({NAME}(, {NAME})*)?\)",
    rf"ALTER TABLE {NAME} DROP ROW FILTER",
    rf"ALTER TABLE {NAME}( ALTER COLUMN {NAME})? SET TAGS \('[^']+' = '[^']*'(, '[^']+' = '[^']*')*\)",
    rf"ALTER TABLE {NAME}( ALTER COLUMN {NAME})? UNSET TAGS \('[^']+'(, '[^']+')*\)",
    rf"(GRANT|REVOKE) [A-Z ]+ ON (CATALOG|SCHEMA|TABLE|VOLUME) {NAME} (TO|FROM) {NAME}",
    rf"DROP FUNCTION IF EXISTS {NAME}",
]


@pytest.fixture(scope="module")
def desired(project_root: Path) -> SecurityState:
    return desired_state(load_specs(project_root / "specs").of("security")[0], NAMES)


def test_from_an_empty_workspace_everything_is_created_functions_first(desired):
    statements = plan(desired, SecurityState())
    kinds = [s.split("(")[0].split(" ON ")[0][:25] for s in statements]
    first_alter = next(i for i, s in enumerate(statements) if s.startswith("ALTER"))
    assert all(s.startswith("CREATE OR REPLACE FUNCTION") for s in statements[:first_alter]), kinds
    assert len([s for s in statements if s.startswith("CREATE")]) == 7  # 5 masks + 2 row filters
    order_filter = "`main`.`sales_security`.`medallion_filter_fact_order`"
    assert (
        f"ALTER TABLE `main`.`sales_silver`.`fact_order` SET ROW FILTER {order_filter} ON (`customer_id`)"
        in (statements)
    )
    # The lookup in another table names it in the target's schema.
    assert "FROM `main`.`sales_silver`.dim_customer WHERE is_current" in next(
        s for s in statements if s.startswith(f"CREATE OR REPLACE FUNCTION {order_filter}")
    )
    assert f"ALTER TABLE {DIM} ALTER COLUMN `email` SET MASK {EMAIL_MASK}" in statements
    assert (
        f"ALTER TABLE {DIM} SET ROW FILTER `main`.`sales_security`.`medallion_filter_dim_customer` ON (`country`)"
        in statements
    )
    assert "GRANT SELECT ON TABLE `main`.`sales_gold`.`daily_sales` TO `analysts`" in statements
    assert not any(s.startswith(("REVOKE", "DROP")) or "UNSET" in s for s in statements)


def test_from_the_desired_state_nothing_runs(desired):
    assert plan(desired, copy.deepcopy(desired), desired) == []


def test_drift_is_repaired_with_exactly_the_statements_needed(desired):
    actual = copy.deepcopy(desired)
    del actual.masks[(DIM, "email")]  # a mask dropped by hand
    actual.tags[(DIM, "email")]["class"] = "public"  # a tag changed by hand
    actual.tags[(DIM, "")]["owner"] = "someone"  # a tag key the specs do not use: left alone
    actual.tags[(DIM, "country")] = {"class": "pii"}  # an owned key where the specs set none
    actual.grants.discard(
        ("table", "`main`.`sales_gold`.`daily_sales`", "analysts", "SELECT")
    )  # revoked by hand
    actual.grants.add(("table", f"{DIM}", "auditors", "SELECT"))  # granted by hand to someone else: stays
    assert plan(desired, actual, desired) == [
        f"ALTER TABLE {DIM} ALTER COLUMN `email` SET MASK {EMAIL_MASK}",
        f"ALTER TABLE {DIM} ALTER COLUMN `country` UNSET TAGS ('class')",
        f"ALTER TABLE {DIM} ALTER COLUMN `email` SET TAGS ('class' = 'pii')",
        "GRANT SELECT ON TABLE `main`.`sales_gold`.`daily_sales` TO `analysts`",
    ]


def test_a_removed_spec_row_removes_what_it_created(project_root: Path, desired):
    """Drop the email mask (and its pii tag) and the analysts' daily_sales grant from the specs."""
    spec = load_specs(project_root / "specs").of("security")[0]
    trimmed = type(spec)(
        masks=tuple(m for m in spec.masks if m.column != "email"),
        filters=spec.filters,
        tags=tuple(t for t in spec.tags if t.column != "email"),
        grants=tuple(
            g for g in spec.grants if not (g.principal == "analysts" and g.name == "gold.daily_sales")
        ),
    )
    now = desired_state(trimmed, NAMES)
    assert plan(now, copy.deepcopy(desired), desired) == [
        f"ALTER TABLE {DIM} ALTER COLUMN `email` DROP MASK",
        f"ALTER TABLE {DIM} ALTER COLUMN `email` UNSET TAGS ('class')",
        "REVOKE SELECT ON TABLE `main`.`sales_gold`.`daily_sales` FROM `analysts`",
        f"DROP FUNCTION IF EXISTS {EMAIL_MASK}",
    ]


def test_a_changed_mask_replaces_its_function_only(project_root: Path, desired):
    spec = load_specs(project_root / "specs").of("security")[0]
    changed = type(spec)(
        masks=tuple(
            m if m.column != "email" else type(m)(**{**m.__dict__, "kind": "hash"}) for m in spec.masks
        ),
        filters=spec.filters,
        tags=spec.tags,
        grants=spec.grants,
    )
    statements = plan(desired_state(changed, NAMES), copy.deepcopy(desired), desired)
    assert len(statements) == 1 and statements[0].startswith(f"CREATE OR REPLACE FUNCTION {EMAIL_MASK}(")
    assert "sha2(CAST(value AS STRING), 256)" in statements[0]


def test_every_statement_parses_and_the_demo_statements_match_the_golden_file(desired):
    statements = plan(desired, SecurityState())
    removals = plan(SecurityState(), desired, desired)
    for statement in [*statements, *removals]:
        if statement.startswith("CREATE"):
            parsed = sqlglot.parse_one(statement, read="databricks")
            assert isinstance(parsed, exp.Create) and parsed.args["kind"] == "FUNCTION", statement
            assert parsed.find(exp.Case) or parsed.find(exp.Or), statement
        else:
            assert any(re.fullmatch(pattern, statement) for pattern in COMMANDS), statement
    text = "\n\n".join(s + ";" for s in statements) + "\n\n-- removing every spec row:\n\n"
    text += "\n\n".join(s + ";" for s in removals) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert GOLDEN.read_text() == text, "the demo's statements changed: review, then UPDATE_GOLDEN=1 pytest"
