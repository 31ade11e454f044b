"""The security step against a workspace, with a recording stand-in for Spark: `information_schema` rows
become the actual state, only the planned statements run, and a second run runs nothing."""

from __future__ import annotations

import re
from pathlib import Path

from medallion.security.reconcile import SecurityState, desired_state, plan
from medallion.security.statements import SecurableNames
from medallion.security.workspace import STATE_TABLE, read_actual_state, reconcile, security_step
from medallion.specs import load_specs

NAMES = SecurableNames("main", {"bronze": "b", "silver": "s", "gold": "g"})


class Row(dict):
    def asDict(self):
        return dict(self)

    def __getitem__(self, key):
        return dict.__getitem__(self, key)


class FakeWorkspace:
    """Answers information_schema queries from lists of rows; records every other statement."""

    def __init__(self, views: dict[str, list[dict]]):
        self.views = views
        self.executed: list[str] = []
        self.state: str | None = None
        self.catalog = self

    def tableExists(self, name: str) -> bool:
        return self.state is not None and name.endswith(STATE_TABLE)

    def sql(self, text: str):
        match = re.search(r"information_schema\.(\w+)", text)
        if match:
            rows = self.views.get(match.group(1), [])
        elif text.startswith("SHOW POLICIES ON "):
            on = text.removeprefix("SHOW POLICIES ON ")
            rows = [
                {"Policy Name": r["Policy Name"]} for r in self.views.get("policies", []) if r["on"] == on
            ]
        elif text.startswith("SELECT owned"):
            rows = [{"owned": self.state}]
        else:
            self.executed.append(text)
            if text.startswith("INSERT OVERWRITE"):
                self.state = re.search(r"SELECT '(.*)' AS owned", text).group(1).replace("\\'", "'")
            rows = []
        return type("Frame", (), {"collect": lambda _self: [Row(r) for r in rows]})()


def _views_from(spec, names: SecurableNames = NAMES) -> dict[str, list[dict]]:
    """information_schema rows (and SHOW POLICIES) for a workspace that already matches `spec`."""
    state = desired_state(spec, names)
    unq = lambda name: [p.strip("`") for p in name.split("`.`")]  # noqa: E731
    views: dict[str, list[dict]] = {
        k: [] for k in ("column_masks", "row_filters", "routines", "table_tags", "column_tags")
    }
    for (table, column), (function, using) in state.masks.items():
        c, s, t = unq(table)
        fc, fs, fn = unq(function)
        views["column_masks"].append(
            {
                "catalog_name": c,
                "schema_name": s,
                "table_name": t,
                "column_name": column,
                "mask_catalog": fc,
                "mask_schema": fs,
                "mask_name": fn,
                "mask_col_usage": ",".join(using) or None,
            }
        )
    for table, (function, columns) in state.filters.items():
        c, s, t = unq(table)
        fc, fs, fn = unq(function)
        views["row_filters"].append(
            {
                "catalog_name": c,
                "schema_name": s,
                "table_name": t,
                "filter_catalog": fc,
                "filter_schema": fs,
                "filter_name": fn,
                "filter_col_usage": ",".join(columns),
            }
        )
    for function, comment in state.functions.items():
        c, s, n = unq(function)
        views["routines"].append(
            {"routine_catalog": c, "routine_schema": s, "routine_name": n, "comment": comment}
        )
    for (table, column), tags in state.tags.items():
        c, s, t = unq(table)
        for key, value in tags.items():
            row = {"catalog_name": c, "schema_name": s, "table_name": t, "tag_name": key, "tag_value": value}
            views["column_tags" if column else "table_tags"].append(
                {**row, "column_name": column} if column else row
            )
    for on, name in state.policies:
        views.setdefault("policies", []).append({"on": on, "Policy Name": name.strip("`")})
    for kind, securable, principal, privilege in state.grants:
        parts = unq(securable)
        if kind == "catalog":
            views.setdefault("catalog_privileges", []).append(
                {"catalog_name": parts[0], "grantee": principal, "privilege_type": privilege}
            )
        elif kind == "schema":
            views.setdefault("schema_privileges", []).append(
                {
                    "catalog_name": parts[0],
                    "schema_name": parts[1],
                    "grantee": principal,
                    "privilege_type": privilege,
                }
            )
        else:
            views.setdefault("table_privileges", []).append(
                {
                    "table_catalog": parts[0],
                    "table_schema": parts[1],
                    "table_name": parts[2],
                    "grantee": principal,
                    "privilege_type": privilege,
                }
            )
    return views


def test_information_schema_rows_read_back_as_the_state_they_describe(project_root: Path):
    spec = load_specs(project_root / "specs").of("security")[0]
    actual = read_actual_state(FakeWorkspace(_views_from(spec)), NAMES)
    desired = desired_state(spec, NAMES)
    assert (actual.masks, actual.filters, actual.functions, actual.tags, actual.grants) == (
        desired.masks,
        desired.filters,
        desired.functions,
        desired.tags,
        desired.grants,
    )


def test_reconcile_runs_only_what_drifted_then_nothing(project_root: Path):
    spec = load_specs(project_root / "specs").of("security")[0]
    views = _views_from(spec)
    views["column_masks"] = [
        r for r in views["column_masks"] if r["column_name"] != "email"
    ]  # dropped by hand
    workspace = FakeWorkspace(views)
    planned = reconcile(workspace, spec, NAMES, execute=False)
    assert planned.statements == [
        "ALTER TABLE `main`.`s`.`dim_customer` ALTER COLUMN `email` SET MASK `main`.`s`.`medallion_mask_dim_customer_email`"
    ]
    assert workspace.executed == [] and not planned.executed  # a plan only

    done = reconcile(workspace, spec, NAMES, execute=True)
    assert workspace.executed[0] == planned.statements[0]
    assert workspace.executed[-1].startswith(f"INSERT OVERWRITE `main`.`s`.`{STATE_TABLE}`") and done.executed

    # The stand-in's information_schema does not change, but what the specs owned is now remembered:
    # removing the analysts' grants from the specs revokes them, and nothing else.
    trimmed = type(spec)(
        spec.masks, spec.filters, spec.tags, tuple(g for g in spec.grants if g.principal != "analysts")
    )
    views["column_masks"] = _views_from(spec)["column_masks"]
    again = reconcile(FakeWorkspaceWithState(views, workspace.state), trimmed, NAMES, execute=False)
    assert again.statements and all(
        s.startswith("REVOKE") and s.endswith("FROM `analysts`") for s in again.statements
    )


class FakeWorkspaceWithState(FakeWorkspace):
    def __init__(self, views, state):
        super().__init__(views)
        self.state = state


def test_locally_the_step_prints_the_plan_a_fresh_workspace_would_need(project_root: Path):
    spec = load_specs(project_root / "specs").of("security")[0]
    result, lines = security_step(FakeWorkspace({}), spec, NAMES, unity_catalog=False, apply=True)
    assert not result.executed
    assert result.statements == plan(desired_state(spec, NAMES), SecurityState())
    assert "no Unity Catalog here" in lines[0] and f"{len(result.statements)} statement(s)" in lines[0]
    assert (
        len(lines) == 1 + 5 + 1
        and lines[-1] == f"  ... and {len(result.statements) - 5} more (docs/security.md)"
    )
    unity, _ = security_step(FakeWorkspace(_views_from(spec)), spec, NAMES, unity_catalog=True, apply=True)
    assert unity.statements == [] and unity.executed  # already in place: nothing runs


def test_side_tables_get_their_tables_masks_filter_and_tags_with_functions_for_other_types(
    project_root: Path,
):
    """information_schema.columns says which side tables exist and their types: the quarantine keeps
    the sign-up date as text and holds the raw bronze row, so it gets its own functions."""
    spec = load_specs(project_root / "specs").of("security")[0]
    quarantine = {"first_name": "string", "email": "string", "signup_date": "string", "country": "string"}
    quarantine |= {"customer_id": "string", "_source_row": "string", "_quarantine_reason": "string"}
    columns = [
        {"table_schema": "s", "table_name": "dim_customer_quarantine", "column_name": c, "full_data_type": t}
        for c, t in quarantine.items()
    ]
    statements = reconcile(FakeWorkspace({"columns": columns}), spec, NAMES, execute=False).statements
    side = "`main`.`s`.`dim_customer_quarantine`"
    on_side = [s for s in statements if s.startswith(f"ALTER TABLE {side}")]
    function = "`main`.`s`.`medallion_mask_dim_customer_{}`"
    assert f"ALTER TABLE {side} ALTER COLUMN `email` SET MASK {function.format('email')}" in on_side
    # A year_only mask cannot give text: the text column is masked to NULL by a function of its own.
    assert (
        f"ALTER TABLE {side} ALTER COLUMN `signup_date` SET MASK {function.format('signup_date_string')}"
        in on_side
    )
    created = {s.split("(")[0]: s for s in statements if s.startswith("CREATE")}
    assert (
        "CASE WHEN is_account_group_member('pii_readers') THEN value ELSE CAST(NULL AS STRING) END"
        in created[f"CREATE OR REPLACE FUNCTION {function.format('signup_date_string')}"]
    )
    assert (
        f"ALTER TABLE {side} ALTER COLUMN `_source_row` SET MASK {function.format('_source_row')}" in on_side
    )
    assert (
        f"ALTER TABLE {side} SET ROW FILTER `main`.`s`.`medallion_filter_dim_customer` ON (`country`)"
        in on_side
    )
    assert f"ALTER TABLE {side} ALTER COLUMN `email` SET TAGS ('class' = 'pii')" in on_side
    assert not any("last_name" in s or "`city`" in s for s in on_side)  # columns the side table lacks
    assert not any("dim_customer_changes" in s for s in statements)  # not in information_schema


def test_policies_mode_creates_its_policies_once_and_finds_them_again(tmp_path: Path):
    """The policies a target in `policies` mode created are listed by SHOW POLICIES; their definitions
    are remembered in the state table, so an unchanged policy is not created again."""
    from dataclasses import replace

    from test_policies import VALID
    from test_policies import _specs as policy_specs

    spec = load_specs(policy_specs(tmp_path, VALID)).of("security")[0]
    names = replace(NAMES, use_policies=True)
    workspace = FakeWorkspace({})
    first = reconcile(workspace, spec, names, execute=True)
    created = [s for s in workspace.executed if s.startswith("CREATE OR REPLACE POLICY")]
    assert len(created) == 2 and first.executed
    assert not any("SET MASK" in s for s in workspace.executed)

    again = FakeWorkspaceWithState(_views_from(spec, names), workspace.state)
    assert reconcile(again, spec, names, execute=False).statements == []
    # A policy dropped by hand is created again; the other is left alone.
    again.views["policies"] = again.views["policies"][:1]
    (statement,) = reconcile(again, spec, names, execute=False).statements
    assert statement.startswith("CREATE OR REPLACE POLICY")


def test_a_gold_column_mask_that_cannot_give_the_columns_type_is_named_once_the_type_is_known(
    project_root: Path,
):
    """Gold columns have no declared type: the workspace's type is checked against the mask."""
    from dataclasses import replace

    import pytest

    from medallion.errors import SpecError
    from medallion.specs.security_model import ColumnMask

    spec = load_specs(project_root / "specs").of("security")[0]
    revenue = ColumnMask("gold.daily_sales", "revenue", "hash", exempt_groups=("finance",), row=7)
    widened = replace(spec, masks=(*spec.masks, revenue))
    types = {"gold.daily_sales": {"revenue": "decimal(18,2)"}}
    with pytest.raises(
        SpecError,
        match=r"column_masks.csv:7:mask: mask hash gives a string but "
        r"gold.daily_sales.revenue is decimal\(18,2\)",
    ):
        desired_state(widened, NAMES, types)
    fine = replace(spec, masks=(*spec.masks, replace(revenue, kind="null")))
    masks = desired_state(fine, NAMES, types).masks
    assert masks[("`main`.`g`.`daily_sales`", "revenue")][0].endswith("`medallion_mask_daily_sales_revenue`")
