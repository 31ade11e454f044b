"""`medallion security plan -t <target>`: offline, what a fresh workspace needs; with `--warehouse-id`,
what the target's `information_schema` (read over the SDK's statement execution API, here from the
stand-in workspace on 127.0.0.1, in chunks) says is still missing. Nothing is changed either way."""

from __future__ import annotations

import pytest
from workspace_stub import WorkspaceStub

from medallion.bundle import load_bundle
from medallion.cli import main
from medallion.security.reconcile import SecurityState, desired_state, plan
from medallion.security.statements import SecurableNames
from medallion.specs import load_specs

PROD = SecurableNames("prod", {"bronze": "bronze", "silver": "silver", "gold": "gold"}, "security")


@pytest.fixture
def spec(project_root):
    return load_specs(project_root / "specs").of("security")[0]


def _plan(capsys, project_root, *extra: str) -> tuple[list[str], str]:
    code = main(["--project-dir", str(project_root), "security", "plan", "-t", "prod", *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    return [s.strip() for s in out.split(";\n\n")[:-1]], out.splitlines()[-1]


def test_offline_the_plan_is_what_a_fresh_workspace_needs(capsys, project_root, spec):
    statements, summary = _plan(capsys, project_root)
    assert statements == plan(desired_state(spec, PROD), SecurityState())
    assert summary.startswith("security plan for a fresh prod workspace") and summary.endswith(
        f"{len(statements)} statement(s)"
    )
    assert load_bundle(project_root).resolve_variables("prod", local=False)["security_schema"] == "security"


def test_through_a_warehouse_only_what_the_workspace_lacks(capsys, project_root, spec, monkeypatch):
    desired = desired_state(spec, PROD)
    unquote = lambda name: [p.strip("`") for p in name.split("`.`")]  # noqa: E731
    with WorkspaceStub() as ws:
        # The workspace already has every mask (and its function): five rows, three chunks of two.
        for (table, column), (function, _) in desired.masks.items():
            catalog, schema, name = unquote(table)
            _, function_schema, function_name = unquote(function)
            ws.information_schema.setdefault("column_masks", []).append(
                dict(catalog_name=catalog, schema_name=schema, table_name=name, column_name=column)
                | dict(mask_catalog=catalog, mask_schema=function_schema, mask_name=function_name)
                | dict(mask_col_usage=None)
            )
            ws.information_schema.setdefault("routines", []).append(
                dict(routine_catalog=catalog, routine_schema=function_schema, routine_name=function_name)
                | dict(comment=desired.functions[function])
            )
        monkeypatch.setenv("DATABRICKS_HOST", ws.host)
        monkeypatch.setenv("DATABRICKS_TOKEN", "dummy")
        statements, summary = _plan(capsys, project_root, "--warehouse-id", "wh1")
        requests = ws.calls("POST", "/api/2.0/sql/statements")
        chunks = ws.calls("GET", "/api/2.0/sql/statements/")

    assert statements and not any("SET MASK" in s or "medallion_mask_" in s for s in statements)
    fresh = plan(desired, SecurityState())
    assert statements == [s for s in fresh if "SET MASK" not in s and "medallion_mask_" not in s]
    assert (
        summary
        == f"security plan for prod (prod, read through warehouse wh1): {len(statements)} statement(s)"
    )
    assert {r["body"]["warehouse_id"] for r in requests} == {"wh1"}
    assert all(r["body"]["statement"].startswith("SELECT") for r in requests)  # a plan changes nothing
    assert len(chunks) >= 4  # the masks and routines views came in three chunks each
