"""The SQL a persona's views evaluate locally: the workspace functions' expressions with group
membership and the current user bound to the persona (no Unity Catalog function exists locally)."""

from __future__ import annotations

import sqlglot

from medallion.security.statements import MemberCheck, SecurableNames, filter_expression, mask_expression
from medallion.specs.security_model import ColumnMask, RowFilter

NAMES = SecurableNames("c", {"bronze": "b", "silver": "s", "gold": "g"})
HR = MemberCheck.of(("hr",))
SALARY = ColumnMask(
    "silver.employee",
    "salary",
    "sql",
    argument="CASE WHEN is_member('payroll') OR current_user() = 'boss@corp' THEN value ELSE 0 END",
    exempt_groups=("hr",),
)


def test_a_sql_mask_asks_the_persona_not_the_workspace():
    workspace = mask_expression(SALARY)
    assert "is_account_group_member('hr')" in workspace and "is_member('payroll')" in workspace
    local = mask_expression(SALARY, "`salary`", MemberCheck.of(("analysts",)))
    assert "is_member" not in local and "current_user" not in local
    assert local == (
        "CASE WHEN FALSE THEN `salary` ELSE "
        "(CASE WHEN FALSE OR 'persona:analysts' = 'boss@corp' THEN `salary` ELSE 0 END) END"
    )
    assert "CASE WHEN TRUE THEN `salary`" in mask_expression(SALARY, "`salary`", HR)
    sqlglot.parse_one(f"SELECT {local} FROM t", read="databricks")


def test_a_predicate_asks_the_persona_and_literals_stay_as_written():
    rows = (
        RowFilter(
            "silver.employee",
            "hr",
            "department = 'is_member(''x'')' OR is_account_group_member('admins')",
            row=2,
        ),
        RowFilter("silver.employee", "auditors", None, row=3),
    )
    local = filter_expression(rows, NAMES, HR)
    assert local == "(TRUE AND (department = 'is_member(''x'')' OR FALSE)) OR FALSE"
    assert "is_account_group_member('admins')" in filter_expression(rows, NAMES)
