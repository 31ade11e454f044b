"""DQX's check functions as a snapshot, so `medallion validate` checks rules without importing DQX.

Importing DQX costs seconds (it loads the Databricks SDK, pandas and SQLAlchemy), more than a
pre-commit check may take. `dqx_checks.json` lists every built-in check function with its parameters
and the JSON value kinds each accepts (written by scripts/refresh_dqx_checks.py from the installed
DQX; a unit test fails when it is stale, and another that this module and DQX's own validator agree
on valid and invalid checks). The messages follow DQX's. At run time DQX validates every check itself.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SNAPSHOT", "CheckFunction", "check_errors", "check_function", "function_names"]

SNAPSHOT = Path(__file__).with_name("dqx_checks.json")
_CRITICALITIES = ("warn", "error")


@dataclass(frozen=True)
class CheckFunction:
    name: str
    params: dict[str, frozenset[str]]  # parameter -> accepted JSON kinds
    required: tuple[str, ...]
    var_keyword: bool


@functools.cache
def _functions() -> dict[str, CheckFunction]:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return {
        name: CheckFunction(
            name,
            {p["name"]: frozenset(p["kinds"]) for p in body["params"]},
            tuple(p["name"] for p in body["params"] if p["required"]),
            body["var_keyword"],
        )
        for name, body in data["functions"].items()
    }


def function_names() -> list[str]:
    return sorted(_functions())


def check_function(name: str) -> CheckFunction | None:
    return _functions().get(name)


def check_errors(check: dict[str, Any]) -> list[str]:
    """What DQX would refuse in one check (metadata form), as DQX words it; [] when it is fine."""
    errors = []
    criticality = check.get("criticality", "error")
    if isinstance(criticality, str) and criticality not in _CRITICALITIES:
        errors.append(f"Invalid 'criticality' value: '{criticality}'. Expected 'warn' or 'error'")
    body = check.get("check")
    if not isinstance(body, dict) or not body.get("function"):
        return [*errors, "'function' field is missing in the 'check' block"]
    arguments = body.get("arguments") or {}
    if not isinstance(arguments, dict):
        return [*errors, "'arguments' should be a dictionary in the 'check' block"]
    function = check_function(str(body["function"]))
    if function is None:
        return [*errors, f"function '{body['function']}' is not defined"]
    for_each = body.get("for_each_column") or []
    filled = "columns" if "columns" in function.params else "column"
    for target in for_each or [None]:
        effective = dict(arguments) if target is None else {**arguments, filled: target}
        errors.extend(_argument_errors(function, effective))
    return list(dict.fromkeys(errors))


def _argument_errors(function: CheckFunction, arguments: dict[str, Any]) -> list[str]:
    name = function.name
    if not arguments and function.params:
        return [
            f"No arguments provided for function '{name}'. Expected arguments are: {list(function.params)}"
        ]
    errors = []
    for argument, value in arguments.items():
        kinds = function.params.get(argument)
        if kinds is None:
            if not function.var_keyword:
                errors.append(
                    f"Unexpected argument '{argument}' for function '{name}'. "
                    f"Expected arguments are: {list(function.params)}"
                )
        elif "any" not in kinds and _kind(value) not in kinds and not _number_fits(value, kinds):
            errors.append(
                f"Argument '{argument}' should be of type '{' | '.join(sorted(kinds))}' for function '{name}'"
            )
    errors += [
        f"Missing required argument '{p}' for function '{name}'. Expected arguments include: {list(function.params)}"
        for p in function.required
        if p not in arguments
    ]
    return errors


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "any"


def _number_fits(value: Any, kinds: frozenset[str]) -> bool:
    """An integer is a number too (DQX accepts 5 where it asks for a float)."""
    return _kind(value) == "integer" and "number" in kinds
