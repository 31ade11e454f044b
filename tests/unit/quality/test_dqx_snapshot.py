"""The DQX snapshot `medallion validate` reads is the installed DQX, and judges checks as DQX does."""

from __future__ import annotations

import pytest

from medallion.specs.dqx_checks import SNAPSHOT, check_errors


def test_snapshot_matches_the_installed_dqx():
    from medallion.quality.dqx_snapshot import snapshot_text

    assert SNAPSHOT.read_text(encoding="utf-8") == snapshot_text(), (
        "src/medallion/specs/dqx_checks.json is stale: run .venv/bin/python scripts/refresh_dqx_checks.py"
    )


def _check(function, arguments=None, **extra):
    body = {"function": function}
    if arguments is not None:
        body["arguments"] = arguments
    body.update(extra.pop("body", {}))
    return {"name": "r", "criticality": extra.pop("criticality", "error"), "check": body, **extra}


CASES = {
    "valid is_not_null": _check("is_not_null", {"column": "a"}),
    "valid is_in_list": _check("is_in_list", {"column": "a", "allowed": ["'x'", "'y'"]}),
    "valid is_in_range with numbers": _check(
        "is_in_range", {"column": "a", "min_limit": 1, "max_limit": 2.5}
    ),
    "valid is_unique columns": _check("is_unique", {"columns": ["a", "b"]}),
    "valid for_each_column": _check("is_not_null", {}, body={"for_each_column": ["a", "b"]}),
    "valid warn": _check("is_not_null", {"column": "a"}, criticality="warn"),
    "valid sql_expression": _check("sql_expression", {"expression": "a > 0", "msg": "m"}),
    "unknown function": _check("is_not_nul", {"column": "a"}),
    "no arguments": _check("is_not_null", {}),
    "missing required argument": _check("is_in_list", {"column": "a"}),
    "unexpected argument": _check("is_in_list", {"column": "a", "allowed": ["1"], "colour": "red"}),
    "list given a scalar": _check("is_in_list", {"column": "a", "allowed": "'x'"}),
    "columns given a scalar": _check("is_unique", {"columns": "a"}),
    "number given a list": _check("is_in_range", {"column": "a", "min_limit": [1], "max_limit": 2}),
    "bad criticality": _check("is_not_null", {"column": "a"}, criticality="fatal"),
}


@pytest.mark.parametrize("case", CASES)
def test_snapshot_and_dqx_agree_on_what_is_invalid(case):
    from databricks.labs.dqx.engine import DQEngineCore

    check = CASES[case]
    dqx = DQEngineCore.validate_checks([check], semantic_validation_mode=None).errors
    ours = check_errors(check)
    assert bool(ours) == bool(dqx), f"ours: {ours}\nDQX: {dqx}"
    assert bool(ours) == (not case.startswith("valid")), ours
